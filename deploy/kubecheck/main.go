// Command kubecheck checks Kubernetes manifests offline, against the API
// types of k8s.io/api: every document of every file must decode strictly
// (case-sensitive, and an unknown, misspelt or repeated field is an
// error, as the API server's strict field validation makes it) into the type its apiVersion and kind name,
// and pass the cross-references a decode cannot see: a workload's selector
// matches its pod labels, every volume mount names a volume, every
// ConfigMap a pod mounts is in the files, every container has an image.
//
//	go run . [-configs DIR] FILE...
//
// With -configs, each ConfigMap's config.toml is written to
// DIR/<ConfigMap name>.toml, so that the caller can load it with the node's
// own configuration loader. deploy/deploy_test.go runs it; it is a module
// of its own so that the node's module does not depend on Kubernetes.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// networkAttachment is Multus's NetworkAttachmentDefinition, a custom
// resource that k8s.io/api does not have.
type networkAttachment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Config string `json:"config"`
	} `json:"spec"`
}

// podOwner is what kubecheck checks of a pod and of a workload's template.
type podOwner struct {
	where     string
	selector  *metav1.LabelSelector // nil for a Pod
	labels    map[string]string
	spec      corev1.PodSpec
	templates []string // volumeClaimTemplates' names
}

func main() {
	configs := flag.String("configs", "", "write each ConfigMap's config.toml to `DIR`/<name>.toml")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: kubecheck [-configs DIR] FILE...")
		os.Exit(2)
	}
	var errs []error
	var owners []podOwner
	configMaps := map[string]*corev1.ConfigMap{}
	for _, file := range flag.Args() {
		docs, err := documents(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i, doc := range docs {
			where := fmt.Sprintf("%s: document %d", file, i+1)
			o, cm, err := decode(where, doc)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if o != nil {
				owners = append(owners, *o)
			}
			if cm != nil {
				if configMaps[cm.Name] != nil {
					errs = append(errs, fmt.Errorf("%s: ConfigMap %s defined twice", where, cm.Name))
				}
				configMaps[cm.Name] = cm
			}
		}
	}
	for _, o := range owners {
		errs = append(errs, checkPod(o, configMaps)...)
	}
	if *configs != "" {
		for name, cm := range configMaps {
			if toml, ok := cm.Data["config.toml"]; ok {
				if err := os.WriteFile(filepath.Join(*configs, name+".toml"), []byte(toml), 0o644); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d files, %d workloads and pods, %d ConfigMaps: ok\n", flag.NArg(), len(owners), len(configMaps))
}

var separator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// documents splits a YAML file at its "---" lines, leaving out documents
// that hold only comments.
func documents(file string) ([][]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var docs [][]byte
	for _, d := range separator.Split(string(b), -1) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(m) > 0 {
			docs = append(docs, []byte(d))
		}
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no document", file)
	}
	return docs, nil
}

// decode strictly decodes one document into the type of its apiVersion
// and kind.
func decode(where string, doc []byte) (*podOwner, *corev1.ConfigMap, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", where, err)
	}
	where = fmt.Sprintf("%s (%s %s)", where, tm.APIVersion, tm.Kind)
	// As the API server decodes: field names are case-sensitive
	// (encoding/json's are not, so "readOnlyRootFileSystem" would pass),
	// and an unknown or repeated field is an error.
	strict := func(v any) error {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		strictErrs, err := kjson.UnmarshalStrict(j, v)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if len(strictErrs) > 0 {
			return fmt.Errorf("%s: %w", where, errors.Join(strictErrs...))
		}
		return nil
	}
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 ConfigMap":
		var cm corev1.ConfigMap
		return nil, &cm, strict(&cm)
	case "v1 Service":
		var s corev1.Service
		if err := strict(&s); err != nil {
			return nil, nil, err
		}
		if len(s.Spec.Selector) == 0 {
			return nil, nil, fmt.Errorf("%s: a Service without a selector", where)
		}
		return nil, nil, nil
	case "v1 Pod":
		var p corev1.Pod
		if err := strict(&p); err != nil {
			return nil, nil, err
		}
		return &podOwner{where: where + " " + p.Name, labels: p.Labels, spec: p.Spec}, nil, nil
	case "apps/v1 StatefulSet":
		var s appsv1.StatefulSet
		if err := strict(&s); err != nil {
			return nil, nil, err
		}
		o := &podOwner{where: where + " " + s.Name, selector: s.Spec.Selector, labels: s.Spec.Template.Labels, spec: s.Spec.Template.Spec}
		for _, t := range s.Spec.VolumeClaimTemplates {
			o.templates = append(o.templates, t.Name)
		}
		if s.Spec.ServiceName == "" {
			return nil, nil, fmt.Errorf("%s: no serviceName: the pods get no DNS names", where)
		}
		return o, nil, nil
	case "apps/v1 DaemonSet":
		var d appsv1.DaemonSet
		if err := strict(&d); err != nil {
			return nil, nil, err
		}
		return &podOwner{where: where + " " + d.Name, selector: d.Spec.Selector, labels: d.Spec.Template.Labels, spec: d.Spec.Template.Spec}, nil, nil
	case "apps/v1 Deployment":
		var d appsv1.Deployment
		if err := strict(&d); err != nil {
			return nil, nil, err
		}
		return &podOwner{where: where + " " + d.Name, selector: d.Spec.Selector, labels: d.Spec.Template.Labels, spec: d.Spec.Template.Spec}, nil, nil
	case "k8s.cni.cncf.io/v1 NetworkAttachmentDefinition":
		var n networkAttachment
		if err := strict(&n); err != nil {
			return nil, nil, err
		}
		var conf struct {
			CNIVersion string `json:"cniVersion"`
			Type       string `json:"type"`
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(n.Spec.Config)))
		if err := dec.Decode(&conf); err != nil || conf.Type == "" || conf.CNIVersion == "" {
			return nil, nil, fmt.Errorf("%s: spec.config is not a CNI configuration with cniVersion and type: %v", where, err)
		}
		return nil, nil, nil
	}
	return nil, nil, fmt.Errorf("%s: a kind kubecheck does not know", where)
}

// checkPod checks what ties a pod spec to the rest.
func checkPod(o podOwner, configMaps map[string]*corev1.ConfigMap) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(o.where+": "+format, a...)) }
	if o.selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(o.selector)
		if err != nil {
			fail("selector: %v", err)
		} else if !sel.Matches(labels.Set(o.labels)) {
			fail("selector %v does not match the pod template's labels %v", sel, o.labels)
		}
	}
	volumes := map[string]bool{}
	for _, v := range o.spec.Volumes {
		volumes[v.Name] = true
		if v.ConfigMap != nil && configMaps[v.ConfigMap.Name] == nil {
			fail("volume %s: ConfigMap %s is in none of the files", v.Name, v.ConfigMap.Name)
		}
	}
	for _, t := range o.templates {
		volumes[t] = true
	}
	if len(o.spec.Containers) == 0 {
		fail("no container")
	}
	for _, c := range o.spec.Containers {
		if strings.TrimSpace(c.Image) == "" {
			fail("container %s: no image", c.Name)
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				fail("container %s mounts %s, which is no volume of the pod", c.Name, m.Name)
			}
		}
	}
	return errs
}
