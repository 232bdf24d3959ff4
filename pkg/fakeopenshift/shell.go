package fakeopenshift

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// shell runs the scripts of CLI-image pods. It understands, one command per
// line (a line may end in `\` to continue), with `> FILE` redirection of
// stdout into an in-memory file and `A || B` (B runs when A fails):
//
//	set -o errexit -o nounset -o pipefail       (or any other `set` line; ignored)
//	cluster-version-operator image cli          (in a release payload image)
//	    prints the payload's cli image pull spec, no trailing newline
//	oc adm release extract --from=PULLSPEC --file=image-references [--registry-config=FILE]
//	    prints the payload's image-references (an image.openshift.io/v1
//	    ImageStream, indented JSON), as the real command does; a payload in
//	    a private repository needs FILE: a docker config in a secret volume
//	    the container mounts (e.g. the pull secret at /pull, FILE
//	    /pull/.dockerconfigjson), else it fails as oc does, unauthorized
//	gzip [-9] [-n] -c FILE                       (in a CLI image)
//	    prints FILE gzipped
//	oc create configmap NAME --from-file=KEY=FILE --dry-run=client -o json
//	    prints the ConfigMap; FILE goes into binaryData when it is not
//	    UTF-8, as kubectl does
//	oc patch --local --type=merge -f FILE -o json -p PATCH
//	    prints FILE with the JSON merge patch PATCH applied
//	oc create -f FILE
//	    creates the ConfigMap in FILE in the pod's namespace, as the pod's
//	    service account; fails with AlreadyExists when it exists
//	oc get -f FILE -o name
//	    prints configmap/NAME when the ConfigMap in FILE exists
//
// Words may be quoted with '…' or "…" (no escapes inside). Anything else
// fails the pod with "unsupported command".
type shell struct {
	cluster *Cluster
	pod     *corev1.Pod
	client  ctrlruntimeclient.Client
	files   map[string][]byte
	// image is what the container runs; it decides which programs exist.
	image    *registry.Image
	pullSpec string
}

func newShell(c *Cluster, pod *corev1.Pod, img *registry.Image, pullSpec string) *shell {
	return &shell{cluster: c, pod: pod, image: img, pullSpec: pullSpec, client: c.Client("pod/" + pod.Namespace + "/" + pod.Name), files: map[string][]byte{}}
}

func (s *shell) run(ctx context.Context, script string) (string, error) {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var last string
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := splitWords(line)
		if err != nil {
			return "", fmt.Errorf("fakeopenshift kubelet: %w in %q", err, line)
		}
		if words[0] == "set" {
			continue
		}
		out, err := s.runAlternatives(ctx, words)
		if err != nil {
			return "", err
		}
		last = out
	}
	return last, nil
}

// runAlternatives runs `A || B || …`.
func (s *shell) runAlternatives(ctx context.Context, words []string) (string, error) {
	var alternatives [][]string
	start := 0
	for i, w := range words {
		if w == "||" {
			alternatives = append(alternatives, words[start:i])
			start = i + 1
		}
	}
	alternatives = append(alternatives, words[start:])
	var err error
	for _, alt := range alternatives {
		var out string
		if out, err = s.runRedirected(ctx, alt); err == nil {
			return out, nil
		}
		if errors.As(err, new(unsupportedError)) {
			return "", err
		}
	}
	return "", err
}

type unsupportedError struct{ error }

func (s *shell) runRedirected(ctx context.Context, words []string) (string, error) {
	target := ""
	if n := len(words); n >= 2 && words[n-2] == ">" {
		target, words = words[n-1], words[:n-2]
	}
	if len(words) == 0 {
		return "", unsupportedError{fmt.Errorf("fakeopenshift kubelet: empty command")}
	}
	out, err := s.runCommand(ctx, words)
	if err != nil {
		return "", err
	}
	if target != "" {
		s.files[target] = out
		return "", nil
	}
	return string(out), nil
}

func (s *shell) runCommand(ctx context.Context, words []string) ([]byte, error) {
	flags, args := parseFlags(words)
	program := path.Base(words[0])
	if out, ok, err := s.runFileCommand(ctx, words, flags, args); ok {
		return out, err
	}
	switch {
	case program == "cluster-version-operator" && s.image.Kind != registry.KindPayload:
		return nil, unsupportedError{fmt.Errorf("fakeopenshift kubelet: %s is not a release payload image; cluster-version-operator is not in it", s.pullSpec)}
	case program == "gzip" && s.image.Kind == registry.KindCLI && flags["c"] == "true" && len(args) == 2:
		return gzipFile(s.files, args[1])
	case program == "oc" && s.image.Kind != registry.KindCLI:
		return nil, unsupportedError{fmt.Errorf("fakeopenshift kubelet: %s is not a CLI image; oc is not in it", s.pullSpec)}
	case program == "cluster-version-operator":
		if len(words) != 3 || words[1] != "image" || words[2] != "cli" {
			return nil, unsupportedError{fmt.Errorf("fakeopenshift kubelet: unsupported cluster-version-operator command %q; the fake understands `cluster-version-operator image cli`", strings.Join(words, " "))}
		}
		return []byte(s.image.Release.CLIPullSpec), nil
	case len(args) == 4 && args[0] == "oc" && args[1] == "adm" && args[2] == "release" && args[3] == "extract" && flags["file"] == "image-references" && flags["from"] != "" && (len(flags) == 2 || (len(flags) == 3 && flags["registry-config"] != "")):
		return s.releaseExtract(ctx, flags["from"], flags["registry-config"])
	case len(args) == 4 && args[0] == "oc" && args[1] == "create" && args[2] == "configmap" && flags["dry-run"] == "client" && flags["o"] == "json" && flags["from-file"] != "":
		key, file, ok := strings.Cut(flags["from-file"], "=")
		data, exists := s.files[file]
		if !ok || !exists {
			return nil, fmt.Errorf("error: error reading %s: no such file or directory", file)
		}
		return json.MarshalIndent(configMapOf(args[3], key, data), "", "    ")
	case len(args) == 2 && args[0] == "oc" && args[1] == "patch" && flags["local"] == "true" && flags["type"] == "merge" && flags["o"] == "json" && flags["p"] != "":
		data, exists := s.files[flags["f"]]
		if !exists {
			return nil, fmt.Errorf("error: the path %q does not exist", flags["f"])
		}
		return jsonpatch.MergePatch(data, []byte(flags["p"]))
	case len(args) == 2 && args[0] == "oc" && args[1] == "create" && flags["f"] != "" && len(flags) == 1:
		cm, err := s.configMapFrom(flags["f"])
		if err != nil {
			return nil, err
		}
		if err := s.client.Create(ctx, cm); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return nil, fmt.Errorf("Error from server (AlreadyExists): configmaps %q already exists", cm.Name) //nolint:staticcheck // oc's message
			}
			return nil, fmt.Errorf("Error from server: %w", err) //nolint:staticcheck // oc's message
		}
		return []byte("configmap/" + cm.Name + " created\n"), nil
	case len(args) == 2 && args[0] == "oc" && args[1] == "get" && flags["f"] != "" && flags["o"] == "name":
		cm, err := s.configMapFrom(flags["f"])
		if err != nil {
			return nil, err
		}
		if err := s.client.Get(ctx, ctrlruntimeclient.ObjectKeyFromObject(cm), &corev1.ConfigMap{}); err != nil {
			return nil, fmt.Errorf("Error from server: %w", err) //nolint:staticcheck // oc's message
		}
		return []byte("configmap/" + cm.Name + "\n"), nil
	}
	return nil, unsupportedError{fmt.Errorf("fakeopenshift kubelet: unsupported command %q", strings.Join(words, " "))}
}

// releaseExtract runs `oc adm release extract --file=image-references`: it
// reads the payload with the logins of the registry config, if any.
func (s *shell) releaseExtract(ctx context.Context, from, registryConfig string) ([]byte, error) {
	img, err := s.cluster.registry.ResolveWith(ctx, from, s.registryConfig(ctx, registryConfig))
	if err != nil {
		return nil, fmt.Errorf("error: unable to read release image %s: %w", from, err)
	}
	if img.Kind != registry.KindPayload {
		return nil, fmt.Errorf("error: %s is not a release image", from)
	}
	return img.Release.ImageReferences(), nil
}

// configMapOf is the ConfigMap `oc create configmap --from-file` makes: a
// file that is not UTF-8 goes into binaryData.
func configMapOf(name, key string, data []byte) corev1.ConfigMap {
	cm := corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: name}}
	if utf8.Valid(data) {
		cm.Data = map[string]string{key: string(data)}
	} else {
		cm.BinaryData = map[string][]byte{key: data}
	}
	return cm
}

func gzipFile(files map[string][]byte, file string) ([]byte, error) {
	data, exists := files[file]
	if !exists {
		return nil, fmt.Errorf("gzip: %s: No such file or directory", file)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level
	_, _ = zw.Write(data)                                    // a bytes.Buffer does not fail
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *shell) configMapFrom(file string) (*corev1.ConfigMap, error) {
	data, exists := s.files[file]
	if !exists {
		return nil, fmt.Errorf("error: the path %q does not exist", file)
	}
	cm := &corev1.ConfigMap{}
	if err := json.Unmarshal(data, cm); err != nil || cm.Kind != "ConfigMap" {
		return nil, fmt.Errorf("error: %s is not a ConfigMap", file)
	}
	cm.Namespace = s.pod.Namespace
	cm.TypeMeta = metav1.TypeMeta{}
	return cm, nil
}

// parseFlags splits words into flags (--name=value, --name value for the
// flags that take one, -o value, -f value, -p value; --local alone) and
// positional arguments.
func parseFlags(words []string) (map[string]string, []string) {
	flags := map[string]string{}
	var args []string
	takesValue := map[string]bool{"o": true, "f": true, "p": true, "type": true, "from": true, "file": true, "from-file": true, "dry-run": true, "registry-config": true, "to": true}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") {
			args = append(args, w)
			continue
		}
		name := strings.TrimLeft(w, "-")
		if k, v, ok := strings.Cut(name, "="); ok {
			flags[k] = v
			continue
		}
		if takesValue[name] && i+1 < len(words) {
			flags[name] = words[i+1]
			i++
			continue
		}
		flags[name] = "true"
	}
	return flags, args
}

// splitWords splits a shell line into words, honouring single and double
// quotes.
func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch ch {
		case '\'', '"':
			end := strings.IndexByte(line[i+1:], ch)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case ' ', '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("empty line")
	}
	return words, nil
}

// registryConfig reads the logins of a docker config file that the script
// wrote or a secret volume of the pod provides; none when file is empty or
// not such a file.
func (s *shell) registryConfig(ctx context.Context, file string) registry.Credentials {
	if file == "" || len(s.pod.Spec.Containers) == 0 {
		return nil
	}
	if creds, ok := s.writtenRegistryConfig(file); ok {
		return creds
	}
	for _, mount := range s.pod.Spec.Containers[0].VolumeMounts {
		key, ok := strings.CutPrefix(file, strings.TrimSuffix(mount.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range s.pod.Spec.Volumes {
			if v.Name != mount.Name || v.Secret == nil {
				continue
			}
			secret, _ := s.cluster.backend.get(ctx, objectKey{gvk: secretGVK, namespace: s.pod.Namespace, name: v.Secret.SecretName}).(*corev1.Secret)
			if secret == nil {
				return nil
			}
			// The file holds the secret's key as it is, whatever the
			// secret's type: read it as a docker config.
			asConfig := &corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: secret.Data[key]}}
			return dockerAuths(asConfig)
		}
	}
	return nil
}
