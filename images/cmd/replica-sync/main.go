// Command replica-sync is the sidecar of a MinIO read replica. It makes the local, standalone
// MinIO server an exact copy of one bucket of the primary and keeps it so:
//
//  1. waits for the local server, creates the application's read-only user on it (the gateway
//     signs with the same credentials against the primary or any replica) and the bucket;
//  2. runs `mc mirror --overwrite --remove primary/B local/B` until it succeeds and
//     `mc diff primary/B local/B` reports no difference: only then /readyz answers 200, so the
//     Service never routes a request to a replica holding a partial copy;
//  3. then repeats a one-shot `mc mirror --overwrite --remove` + `mc diff` every SYNC_INTERVAL
//     (new, changed and deleted objects), exporting the result on /metrics for the replica-lag
//     alert. Polling, not `mc mirror --watch`: the watch depends on MinIO bucket notifications
//     (ListenNotification), which delivered no events with the pinned MinIO build in our tests,
//     while a one-shot mirror of an unchanged bucket only costs two listings.
//
// Standard library only; credentials come from files (Kubernetes Secret volumes) and are passed
// to mc through MC_HOST_<alias> environment variables, never on a command line or in a log.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	mc, bucket, listen           string
	primaryURL, localURL         string
	primaryUser, primaryPassword string
	localUser, localPassword     string
	appKey, appSecret, appPolicy string
	syncEvery                    time.Duration
}

var (
	ready       atomic.Bool
	diffObjects atomic.Int64
	lastSuccess atomic.Int64
	syncErrors  atomic.Int64
)

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	cfg := load()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go serve(cfg.listen)

	env := append(os.Environ(),
		"MC_HOST_primary="+hostURL(cfg.primaryURL, cfg.primaryUser, cfg.primaryPassword),
		"MC_HOST_local="+hostURL(cfg.localURL, cfg.localUser, cfg.localPassword),
	)
	run := func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, cfg.mc, append([]string{"--no-color", "--quiet"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	retry := func(what string, f func() error) {
		for delay := time.Second; ; delay = min(delay*2, 30*time.Second) {
			err := f()
			if err == nil {
				return
			}
			log.Printf("%s failed (retrying in %s): %v", what, delay, err)
			select {
			case <-ctx.Done():
				os.Exit(0)
			case <-time.After(delay):
			}
		}
	}

	retry("waiting for the local MinIO", func() error { return healthy(ctx, cfg.localURL) })
	retry("waiting for the primary MinIO", func() error { return healthy(ctx, cfg.primaryURL) })
	retry("creating the application user on the replica", func() error {
		if out, err := run(ctx, "admin", "user", "add", "local", cfg.appKey, cfg.appSecret); err != nil {
			return fmt.Errorf("user add: %v: %s", err, redact(out, cfg))
		}
		// attach fails when the policy is already attached; the info check below is the truth.
		_, _ = run(ctx, "admin", "policy", "attach", "local", cfg.appPolicy, "--user", cfg.appKey)
		out, err := run(ctx, "--json", "admin", "user", "info", "local", cfg.appKey)
		if err != nil {
			return fmt.Errorf("user info: %v: %s", err, redact(out, cfg))
		}
		var info struct {
			PolicyName string `json:"policyName"`
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			return err
		}
		for _, p := range strings.Split(info.PolicyName, ",") {
			if p == cfg.appPolicy {
				return nil
			}
		}
		return fmt.Errorf("policy %q not attached (have %q)", cfg.appPolicy, info.PolicyName)
	})
	retry("creating the bucket on the replica", func() error {
		out, err := run(ctx, "mb", "--ignore-existing", "local/"+cfg.bucket)
		if err != nil {
			return fmt.Errorf("%v: %s", err, redact(out, cfg))
		}
		return nil
	})
	verify := func() (int, error) {
		out, err := run(ctx, "--json", "diff", "primary/"+cfg.bucket, "local/"+cfg.bucket)
		if err != nil {
			return -1, fmt.Errorf("diff: %v: %s", err, redact(out, cfg))
		}
		n := 0
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			var rec struct {
				Status string `json:"status"`
				Diff   int    `json:"diff"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Status == "error" {
				return -1, fmt.Errorf("diff: %s", redact(line, cfg))
			}
			n++
		}
		return n, nil
	}
	retry("initial full copy", func() error {
		t0 := time.Now()
		// Before the seeder has run (Helm runs it as a post-install hook, after the replicas are
		// Ready) the primary has no bucket yet: the complete copy of "nothing" is an empty
		// bucket. The periodic mirror below picks the bucket up once it is seeded.
		if out, err := run(ctx, "--json", "stat", "primary/"+cfg.bucket); err != nil {
			if strings.Contains(out, "NoSuchBucket") || strings.Contains(out, "does not exist") {
				log.Printf("bucket %q does not exist on the primary yet (not seeded); the replica starts empty", cfg.bucket)
				lastSuccess.Store(time.Now().Unix())
				return nil
			}
			return fmt.Errorf("stat primary bucket: %v: %s", err, redact(out, cfg))
		}
		if out, err := run(ctx, "mirror", "--overwrite", "--remove", "primary/"+cfg.bucket, "local/"+cfg.bucket); err != nil {
			return fmt.Errorf("mirror: %v: %s", err, redact(out, cfg))
		}
		n, err := verify()
		if err != nil {
			return err
		}
		diffObjects.Store(int64(n))
		if n != 0 {
			return fmt.Errorf("%d objects still differ after the copy", n)
		}
		lastSuccess.Store(time.Now().Unix())
		log.Printf("initial copy of bucket %q complete and verified in %s; replica is ready, syncing every %s", cfg.bucket, time.Since(t0).Round(time.Millisecond), cfg.syncEvery)
		return nil
	})
	ready.Store(true)

	sync := func() {
		if out, err := run(ctx, "mirror", "--overwrite", "--remove", "primary/"+cfg.bucket, "local/"+cfg.bucket); err != nil {
			syncErrors.Add(1)
			log.Printf("mirror failed: %v: %s", err, redact(out, cfg))
			return
		}
		n, err := verify()
		if err != nil {
			syncErrors.Add(1)
			log.Print(err)
			return
		}
		diffObjects.Store(int64(n))
		if n == 0 {
			lastSuccess.Store(time.Now().Unix())
		}
	}
	t := time.NewTicker(cfg.syncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			log.Print("terminating")
			return
		case <-t.C:
			sync()
		}
	}
}

func serve(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "initial copy not complete", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		b := 0
		if ready.Load() {
			b = 1
		}
		fmt.Fprintf(w, "# HELP gif_replica_sync_ready 1 once the initial full copy was verified.\n# TYPE gif_replica_sync_ready gauge\ngif_replica_sync_ready %d\n", b)
		fmt.Fprintf(w, "# HELP gif_replica_sync_diff_objects Objects that differed between primary and replica at the last verification.\n# TYPE gif_replica_sync_diff_objects gauge\ngif_replica_sync_diff_objects %d\n", diffObjects.Load())
		fmt.Fprintf(w, "# HELP gif_replica_sync_last_success_timestamp_seconds Last time the replica was verified identical to the primary.\n# TYPE gif_replica_sync_last_success_timestamp_seconds gauge\ngif_replica_sync_last_success_timestamp_seconds %d\n", lastSuccess.Load())
		fmt.Fprintf(w, "# HELP gif_replica_sync_errors_total Failed mirror or verification runs.\n# TYPE gif_replica_sync_errors_total counter\ngif_replica_sync_errors_total %d\n", syncErrors.Load())
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func healthy(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/minio/health/ready", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", base, resp.StatusCode)
	}
	return nil
}

func hostURL(base, user, password string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		log.Fatalf("invalid endpoint %q", base)
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}

// redact removes every secret from text that is about to be logged.
func redact(s string, cfg config) string {
	for _, secret := range []string{cfg.primaryPassword, cfg.localPassword, cfg.appSecret, url.UserPassword("", cfg.primaryPassword).String()} {
		if len(secret) > 3 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return strings.TrimSpace(s)
}

func load() config {
	c := config{
		mc:         getenv("MC_BIN", "/usr/bin/mc"),
		bucket:     need("BUCKET"),
		listen:     getenv("LISTEN_ADDRESS", ":8080"),
		primaryURL: need("PRIMARY_ENDPOINT"),
		localURL:   getenv("LOCAL_ENDPOINT", "http://127.0.0.1:9000"),
		appPolicy:  getenv("APP_POLICY", "readonly"),
		syncEvery:  5 * time.Second,
	}
	c.primaryUser, c.primaryPassword = secret("PRIMARY_ACCESS_KEY"), secret("PRIMARY_SECRET_KEY")
	c.localUser, c.localPassword = secret("LOCAL_ACCESS_KEY"), secret("LOCAL_SECRET_KEY")
	c.appKey, c.appSecret = secret("APP_ACCESS_KEY"), secret("APP_SECRET_KEY")
	if v := os.Getenv("SYNC_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			log.Fatalf("SYNC_INTERVAL must be a duration of at least 1s, got %q", v)
		}
		c.syncEvery = d
	}
	return c
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func need(k string) string {
	v := os.Getenv(k)
	if v == "" {
		log.Fatalf("%s is required", k)
	}
	return v
}

// secret reads NAME_FILE (preferred) or NAME; the value is never logged.
func secret(k string) string {
	if p := os.Getenv(k + "_FILE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			log.Fatalf("%s_FILE: %v", k, err)
		}
		return strings.TrimRight(string(b), "\r\n")
	}
	return need(k)
}
