// Command imgbuild writes a single-platform OCI image as a `docker save` style tarball without a
// Docker engine or a registry, the way ko does it: an empty base, one layer made from local files,
// a config with entrypoint, user and labels. `minikube image load FILE.tar` loads the result.
//
//	imgbuild -tag gif-gateway/minio:TAG -platform linux/arm64 -out minio.tar \
//	    -file .tools/bin/linux_arm64/minio:/usr/bin/minio:0555 -entrypoint /usr/bin/minio -user 65532:65532
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// epoch keeps layers reproducible: same inputs, same digest.
var epoch = time.Unix(0, 0).UTC()

func main() {
	var files, envs, labels, dirs multi
	tag := flag.String("tag", "", "image reference to record in the tarball (required)")
	platform := flag.String("platform", "linux/amd64", "os/arch[/variant]")
	out := flag.String("out", "", "output tarball (required)")
	entrypoint := flag.String("entrypoint", "", "comma-separated entrypoint")
	cmd := flag.String("cmd", "", "comma-separated default arguments")
	user := flag.String("user", "", "uid:gid")
	workdir := flag.String("workdir", "", "working directory")
	digestFile := flag.String("digest-file", "", "append '<tag> <platform> <digest>' to this file")
	flag.Var(&files, "file", "SRC:DST[:MODE] file to add (repeatable)")
	flag.Var(&dirs, "dir", "DST[:MODE[:UID]] empty directory to add (repeatable)")
	flag.Var(&envs, "env", "KEY=VALUE (repeatable)")
	flag.Var(&labels, "label", "KEY=VALUE (repeatable)")
	flag.Parse()
	if *tag == "" || *out == "" {
		fail("-tag and -out are required")
	}
	plat, err := v1.ParsePlatform(*platform)
	check(err)
	ref, err := name.NewTag(*tag)
	check(err)

	layerTar, err := buildLayer(files, dirs)
	check(err)
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	check(err)

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: epoch}, CreatedBy: "imgbuild", Comment: "gif-gateway image build"}})
	check(err)
	cf, err := img.ConfigFile()
	check(err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Env = append([]string{"PATH=/usr/bin:/bin"}, envs...)
	if *entrypoint != "" {
		cf.Config.Entrypoint = strings.Split(*entrypoint, ",")
	}
	if *cmd != "" {
		cf.Config.Cmd = strings.Split(*cmd, ",")
	}
	cf.Config.User = *user
	cf.Config.WorkingDir = *workdir
	cf.Config.Labels = map[string]string{}
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			fail("bad -label " + l)
		}
		cf.Config.Labels[k] = v
	}
	img, err = mutate.ConfigFile(img, cf)
	check(err)
	check(tarball.WriteToFile(*out, ref, img))
	dg, err := img.Digest()
	check(err)
	fmt.Printf("%s %s %s %s\n", *tag, *platform, dg, *out)
	if *digestFile != "" {
		f, err := os.OpenFile(*digestFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		check(err)
		fmt.Fprintf(f, "%s %s %s\n", *tag, *platform, dg)
		check(f.Close())
	}
}

func buildLayer(files, dirs []string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seen := map[string]bool{}
	addDir := func(p string, mode int64, uid int) error {
		p = strings.TrimPrefix(path.Clean(p), "/")
		if p == "." || p == "" || seen[p] {
			return nil
		}
		seen[p] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: epoch, Format: tar.FormatPAX})
	}
	parents := func(p string) error {
		var chain []string
		for d := path.Dir(strings.TrimPrefix(p, "/")); d != "." && d != "/"; d = path.Dir(d) {
			chain = append(chain, d)
		}
		sort.Strings(chain)
		for _, d := range chain {
			if err := addDir(d, 0o755, 0); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range dirs {
		parts := strings.Split(d, ":")
		mode, uid := int64(0o755), 0
		if len(parts) > 1 {
			m, err := strconv.ParseInt(parts[1], 8, 32)
			if err != nil {
				return nil, err
			}
			mode = m
		}
		if len(parts) > 2 {
			u, err := strconv.Atoi(parts[2])
			if err != nil {
				return nil, err
			}
			uid = u
		}
		if err := parents(parts[0]); err != nil {
			return nil, err
		}
		if err := addDir(parts[0], mode, uid); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		parts := strings.Split(f, ":")
		if len(parts) < 2 {
			return nil, fmt.Errorf("bad -file %q, want SRC:DST[:MODE]", f)
		}
		mode := int64(0o444)
		if len(parts) > 2 {
			m, err := strconv.ParseInt(parts[2], 8, 32)
			if err != nil {
				return nil, err
			}
			mode = m
		}
		data, err := os.ReadFile(parts[0])
		if err != nil {
			return nil, err
		}
		if err := parents(parts[1]); err != nil {
			return nil, err
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(path.Clean(parts[1]), "/"), Mode: mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "imgbuild:", msg)
	os.Exit(1)
}
