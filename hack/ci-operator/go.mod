module github.com/ci-operator-plugins/import-release/hack/ci-operator

go 1.25.8

require (
	github.com/ci-operator-plugins/import-release v0.0.0-00010101000000-000000000000
	github.com/openshift/ci-tools v0.0.0-00010101000000-000000000000
)

// This module builds against the repository it lives in and a ci-tools
// checkout; hack/verify-ci-operator-adapter.sh adds the replace for ci-tools.
replace github.com/ci-operator-plugins/import-release => ../..

// ci-tools' own replace, which only applies in the main module.
replace github.com/docker/distribution => github.com/docker/distribution v2.7.1+incompatible
