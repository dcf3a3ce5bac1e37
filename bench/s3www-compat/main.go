// s3www-compat serves a bucket over HTTP the way s3www v1.0.0 (github.com/harshavardhana/s3www)
// does: net/http's FileServer over an http.FileSystem whose Open is a minio-go GetObject followed
// by Object.Stat, so each client request is one signed GET to the object store whose body is
// copied to the client by http.ServeContent. Same flags, same client library (minio-go v7, with
// its default transport), same request path.
//
// It exists because the Go module proxy refuses github.com/harshavardhana/s3www ("403 This module
// version is not available"), so `go install github.com/harshavardhana/s3www@v1.0.0` cannot run
// here. scripts/install-bench-tools.sh still tries the real module first; bench/gifbench uses the
// real binary whenever .tools/bin/s3www exists and records which one it measured.
package main

import (
	"context"
	"errors"
	"flag"
	"io/fs"
	"log"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

type bucketFS struct {
	client *minio.Client
	bucket string
}

// Open resolves name, then name/index.html, then name/index.htm, like s3www.
func (b *bucketFS) Open(name string) (http.File, error) {
	if strings.HasSuffix(name, "/") {
		return &prefix{name: strings.TrimSuffix(name, "/")}, nil
	}
	key := strings.TrimPrefix(name, "/")
	for _, k := range []string{key, key + "/index.html", key + "/index.htm"} {
		obj, err := b.client.GetObject(context.Background(), b.bucket, k, minio.GetObjectOptions{})
		if err != nil {
			continue
		}
		info, err := obj.Stat() // sends the GET; its body is what Read then returns
		if err != nil {
			obj.Close()
			continue
		}
		return &object{Object: obj, info: info}, nil
	}
	return nil, os.ErrNotExist
}

// object is an http.File backed by a minio-go Object (Read/Seek/Close come from it).
type object struct {
	*minio.Object
	info minio.ObjectInfo
}

func (o *object) Readdir(int) ([]fs.FileInfo, error) { return nil, errors.New("not a directory") }
func (o *object) Stat() (fs.FileInfo, error)         { return objectInfo{o.info}, nil }

type objectInfo struct{ minio.ObjectInfo }

func (i objectInfo) Name() string       { return path.Base(i.Key) }
func (i objectInfo) Size() int64        { return i.ObjectInfo.Size }
func (i objectInfo) Mode() fs.FileMode  { return 0o444 }
func (i objectInfo) ModTime() time.Time { return i.LastModified }
func (i objectInfo) IsDir() bool        { return false }
func (i objectInfo) Sys() any           { return nil }

// prefix is a "directory"; the benchmark never lists (the read-only user may not either).
type prefix struct{ name string }

func (p *prefix) Close() error                       { return nil }
func (p *prefix) Read([]byte) (int, error)           { return 0, errors.New("is a directory") }
func (p *prefix) Seek(int64, int) (int64, error)     { return 0, errors.New("is a directory") }
func (p *prefix) Readdir(int) ([]fs.FileInfo, error) { return nil, nil }
func (p *prefix) Stat() (fs.FileInfo, error)         { return prefixInfo{p.name}, nil }

type prefixInfo struct{ name string }

func (p prefixInfo) Name() string       { return path.Base(p.name) }
func (p prefixInfo) Size() int64        { return 0 }
func (p prefixInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (p prefixInfo) ModTime() time.Time { return time.Now().UTC() }
func (p prefixInfo) IsDir() bool        { return true }
func (p prefixInfo) Sys() any           { return nil }

func main() {
	endpoint := flag.String("endpoint", "", "S3 server endpoint")
	accessKey := flag.String("accessKey", "", "Access key of S3 storage")
	secretKey := flag.String("secretKey", "", "Secret key of S3 storage")
	bucket := flag.String("bucket", "", "Bucket name which hosts static files")
	address := flag.String("address", "127.0.0.1:8080", "Bind to a specific ADDRESS:PORT")
	flag.Parse()
	if strings.TrimSpace(*bucket) == "" {
		log.Fatalln("Bucket name cannot be empty")
	}
	u, err := url.Parse(*endpoint)
	if err != nil {
		log.Fatalln(err)
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(*accessKey, *secretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       s3utils.GetRegionFromURL(*u),
		BucketLookup: minio.BucketLookupAuto,
	})
	if err != nil {
		log.Fatalln(err)
	}
	log.Printf("Started listening on http://%s\n", *address)
	log.Fatalln(http.ListenAndServe(*address, http.FileServer(&bucketFS{client, *bucket})))
}
