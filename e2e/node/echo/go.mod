// A tiny static HTTP server + client for the e2e cluster's smoke tests (image e2e.local/echo):
// standard library only, so it needs no go.sum and builds offline.
module local/e2e/node/echo

go 1.25.0
