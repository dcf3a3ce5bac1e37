package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Outputs of the pinned mc (MC_VERSION in pins.env) against the pinned MinIO, recorded on
// loopback; request IDs shortened.
const (
	outBadKey    = `{"status":"error","error":{"message":"Unable to list folder.","cause":{"message":"The Access Key Id you provided does not exist in our records.","error":{"Code":"InvalidAccessKeyId","Message":"The Access Key Id you provided does not exist in our records.","BucketName":"gifs","Key":"","Resource":"/gifs/","RequestID":"18EE","HostID":"61a8","Region":"","Server":"MinIO"}},"type":"error"}}`
	outBadSecret = `{"status":"error","error":{"message":"Unable to stat source ` + "`primary/gifs`" + `.","cause":{"message":"The request signature we calculated does not match the signature you provided. Check your key and signing method.","error":{"Code":"SignatureDoesNotMatch","Message":"The request signature we calculated does not match the signature you provided. Check your key and signing method.","BucketName":"gifs","Key":"","Resource":"/gifs/","RequestID":"18EE","HostID":"61a8","Region":"","Server":"MinIO"}},"type":"fatal"}}`
	outDenied    = `{"status":"error","error":{"message":"Unable to list folder.","cause":{"message":"Access Denied.","error":{"Code":"AccessDenied","Message":"Access Denied.","BucketName":"gifs","Key":"","Resource":"","RequestID":"18EE","HostID":"61a8","Region":"","Server":""}},"type":"error"}}`
	outDisabled  = `{"status":"error","error":{"message":"Unable to list folder.","cause":{"message":"Your account is disabled; please contact your administrator.","error":{"Code":"InvalidAccessKeyId","Message":"Your account is disabled; please contact your administrator.","BucketName":"gifs","Key":"","Resource":"/gifs/","RequestID":"18EE","HostID":"61a8","Region":"","Server":"MinIO"}},"type":"error"}}`
	outNoBucket  = `{"status":"error","error":{"message":"Unable to list folder.","cause":{"message":"Bucket ` + "`gifs`" + ` does not exist.","error":{"Bucket":"gifs"}},"type":"error"}}`
	outNoTarget  = `{"status":"error","error":{"message":"Failed to perform mirroring","cause":{"message":"The specified bucket does not exist","error":{"Code":"NoSuchBucket","Message":"The specified bucket does not exist","BucketName":"gifs","Key":"","Resource":"/gifs/","RequestID":"18EE","HostID":"61a8","Region":"","Server":"MinIO"}},"type":"error"}}
{"status":"success","total":0,"transferred":0,"duration":0,"speed":0}`
	outNoPermission = `{"status":"error","error":{"message":"Failed to copy ` + "`/tmp/a.txt`" + `.","cause":{"message":"Insufficient permissions to access this path ` + "`http://127.0.0.1:19500/gifs/x.txt`" + `","error":{"Path":"http://127.0.0.1:19500/gifs/x.txt"}},"type":"error"}}`
	outRefused      = `{"status":"error","error":{"message":"Unable to list folder.","cause":{"message":"Get \"http://127.0.0.1:1/gifs/?location=\": dial tcp 127.0.0.1:1: connect: connection refused","error":{"Op":"Get","URL":"http://127.0.0.1:1/gifs/?location=","Err":{"Op":"dial","Net":"tcp","Source":null,"Addr":{"IP":"127.0.0.1","Port":1,"Zone":""},"Err":{"Syscall":"connect","Err":111}}}},"type":"error"}}`
	// mc stat of a bucket with an unknown key: the bucket listing's error, then a generic one.
	// The old sidecar matched "does not exist" in this and went Ready on an empty bucket.
	outStatBadKey = outBadKey + "\n" + `{"status":"error","error":{"message":"Unable to stat ` + "`primary/gifs`" + `.","cause":{"message":"Object does not exist","error":{}},"type":"fatal"}}`
)

func TestMcFailureClassifiesByCode(t *testing.T) {
	for _, tc := range []struct {
		name, out, code, kind string
	}{
		{"unknown access key", outBadKey, "InvalidAccessKeyId", "credentials rejected"},
		{"wrong secret", outBadSecret, "SignatureDoesNotMatch", "credentials rejected"},
		{"no grant", outDenied, "AccessDenied", "credentials rejected"},
		{"disabled user", outDisabled, "InvalidAccessKeyId", "credentials rejected"},
		{"bucket missing (mc's typed error)", outNoBucket, "NoSuchBucket", "missing bucket"},
		{"bucket missing (S3 code)", outNoTarget, "NoSuchBucket", "missing bucket"},
		{"object not readable (mc's typed error)", outNoPermission, "AccessDenied", "credentials rejected"},
		{"connection refused", outRefused, "", "error"},
		{"unknown key, then 'Object does not exist'", outStatBadKey, "InvalidAccessKeyId", "credentials rejected"},
		{"auth wins over a missing bucket", outNoBucket + "\n" + outDenied, "AccessDenied", "credentials rejected"},
		{"not JSON", "mc: <ERROR> something broke\nmore", "", "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := mcFailure(tc.out, "gifs")
			if code != tc.code {
				t.Fatalf("code %q, want %q (message %q)", code, tc.code, msg)
			}
			if msg == "" {
				t.Fatal("no message")
			}
			e := &mcError{code: code, msg: msg}
			if e.kind() != tc.kind {
				t.Fatalf("kind %q, want %q", e.kind(), tc.kind)
			}
			if tc.code != "" && !strings.Contains(e.about("x").Error(), tc.code) {
				t.Fatalf("the code is not in %q", e.about("x").Error())
			}
		})
	}
}

func TestAnotherBucketMissingIsNotOurs(t *testing.T) {
	out := strings.ReplaceAll(outNoBucket, "gifs", "other")
	if code, _ := mcFailure(out, "gifs"); code != "" {
		t.Fatalf("code %q for another bucket's error", code)
	}
}

func TestDiffRecordsAreCounted(t *testing.T) {
	out := `{"status":"success","first":"http://p/gifs/a.txt","second":"http://l/gifs/a.txt","diff":2}
{"status":"success","first":"","second":"http://l/gifs/extra.txt","diff":6}
`
	n := 0
	for rec := range mcRecords(out) {
		if rec.Status == "success" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d differences, want 2", n)
	}
}

func TestRedactRemovesEverySecret(t *testing.T) {
	c := config{mirrorSecret: "mirror-secret-1", localPassword: "local-pw-22", appSecret: "app-secret-333"}
	got := c.redact(`{"accessKey":"gif-gateway","secretKey":"app-secret-333"} http://k:mirror-secret-1@h local-pw-22`)
	for _, s := range []string{"mirror-secret-1", "local-pw-22", "app-secret-333"} {
		if strings.Contains(got, s) {
			t.Fatalf("%q left in %q", s, got)
		}
	}
}

func TestMirrorPolicyGrantsListAndGetOnTheBucketOnly(t *testing.T) {
	var p struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource []string
		}
	}
	if err := json.Unmarshal([]byte(mirrorPolicy("gifs")), &p); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			t.Fatalf("effect %q", s.Effect)
		}
		for _, a := range s.Action {
			got[a] = strings.Join(s.Resource, ",")
		}
	}
	want := map[string]string{
		"s3:GetBucketLocation": "arn:aws:s3:::gifs",
		"s3:ListBucket":        "arn:aws:s3:::gifs",
		"s3:GetObject":         "arn:aws:s3:::gifs/*",
	}
	if len(got) != len(want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	for a, r := range want {
		if got[a] != r {
			t.Fatalf("%s on %q, want %q", a, got[a], r)
		}
	}
}

func TestInitLocalRootIsRandomPrivateAndKept(t *testing.T) {
	read := func(dir string) (string, string) {
		u, err := os.ReadFile(filepath.Join(dir, "rootUser"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := os.ReadFile(filepath.Join(dir, "rootPassword"))
		if err != nil {
			t.Fatal(err)
		}
		return string(u), string(p)
	}
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := initLocalRoot(d); err != nil {
			t.Fatal(err)
		}
	}
	ua, pa := read(a)
	ub, pb := read(b)
	if ua == ub || pa == pb {
		t.Fatal("two pods got the same root")
	}
	// MinIO's limits: access key >= 3, secret key 8..40 characters; rand.Text's 26 carry 130 bits.
	if len(ua) < 3 || len(pa) < 26 || len(pa) > 40 {
		t.Fatalf("user %d, password %d characters", len(ua), len(pa))
	}
	for _, name := range []string{"rootUser", "rootPassword"} {
		st, err := os.Stat(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o400 {
			t.Fatalf("%s mode %v", name, st.Mode().Perm())
		}
	}
	if err := initLocalRoot(a); err != nil {
		t.Fatal(err)
	}
	if u, p := read(a); u != ua || p != pa {
		t.Fatal("a second run replaced the credentials")
	}
	entries, _ := os.ReadDir(a)
	if len(entries) != 2 {
		t.Fatalf("left behind: %v", entries)
	}
}
