// Command echo is the workload of e2e/cluster.sh's smoke test.
//
//	echo [serve]   answer every request with "echo <hostname> <path>" on $PORT (default 8080)
//	echo get URL   GET URL, print the body; exit 1 on any error or non-2xx status. Connection
//	               errors are retried for up to 30 s: a new pod is refused by NetworkPolicies
//	               until the enforcer on each node has added its address to the allowed sets.
//	echo probe [-retry] URL...  GET each URL, print one line each: "URL status 403 Forbidden"
//	                   or "URL error: ..." (refused, timeout); always exit 0. -retry: retry
//	                   connection errors for up to 30 s in all, like get
//
// The client half exists so that one pod can call another Service by its DNS name without a
// shell or curl in the image: it uses Go's own resolver, which reads the pod's /etc/resolv.conf.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "get" {
		os.Exit(get(os.Args[2]))
	}
	if len(os.Args) > 2 && os.Args[1] == "probe" {
		probe(os.Args[2:])
		return
	}
	if len(os.Args) > 1 && os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: echo [serve] | echo get URL | echo probe URL...")
		os.Exit(2)
	}
	serve()
}

func serve() {
	host, _ := os.Hostname()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "echo %s %s\n", host, r.URL.Path)
	})
	srv := &http.Server{Addr: ":" + port, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(os.Stderr, "echo: listening on :%s\n", port)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func get(url string) int {
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	resp, err := c.Get(url)
	for err != nil && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		resp, err = c.Get(url)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo get:", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	os.Stdout.Write(body)
	if resp.StatusCode/100 != 2 {
		fmt.Fprintln(os.Stderr, "echo get: status", resp.Status)
		return 1
	}
	return 0
}

// probe: which addresses a pod may reach (NetworkPolicy checks), one pod for many targets.
func probe(urls []string) {
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now()
	if len(urls) > 0 && urls[0] == "-retry" {
		urls, deadline = urls[1:], deadline.Add(30*time.Second)
	}
	for _, u := range urls {
		resp, err := c.Get(u)
		for err != nil && time.Now().Before(deadline) {
			time.Sleep(time.Second)
			resp, err = c.Get(u)
		}
		if err != nil {
			fmt.Printf("%s error: %v\n", u, err)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Printf("%s status %s\n", u, resp.Status)
	}
}
