// Package deploy holds the files that deploy ndnsvs-node and the tests
// that check them; it has no code of its own:
//
//   - release.sh: static binaries for the edge targets, with checksums;
//   - image.sh and image/: the OCI image (FROM scratch, non-root,
//     reproducible, linux/amd64, arm64 and arm/v7), built with podman;
//   - compose/: a three-node lab with Prometheus (podman-compose or
//     docker compose);
//   - kubernetes/: a StatefulSet with a headless Service, the multicast
//     variants (hostNetwork, Multus macvlan), and pods for podman kube
//     play; kubecheck/, a module of its own, checks them offline against
//     the Kubernetes API types;
//   - mininet/: a 40-node emulated topology;
//   - systemd/: a hardened unit and its configuration.
//
// The tests build the image and run the compose lab, the pods and the
// Mininet topology for real, each in network namespaces of their own; they
// skip, saying what is missing, without root or the tools.
package deploy
