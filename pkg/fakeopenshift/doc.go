// Package fakeopenshift is an in-process OpenShift for tests and for running
// the import step without a cluster: an apiserver store for ImageStreams,
// Pods, ConfigMaps, Secrets, ServiceAccounts and RBAC objects, the image API's
// virtual resources (ImageStreamTag, ImageStreamImport), an import controller
// like openshift-controller-manager's, a scheduler and a kubelet that run the
// import step's pods, a registry of generated release payloads, fault
// injection and request accounting.
//
// Unlike controller-runtime's fake client it behaves like the real servers
// where the import step depends on it: resourceVersions change on every real
// write and not on a no-op write; metadata.generation follows the Kubernetes
// rules for pods and OpenShift's rules for image streams (per-tag
// generations, the import's own bump); server-side apply tracks field
// ownership with the apiserver's own field manager, so spec.tags merges by
// name across managers and conflicts without force; writes are optimistic
// like the apiserver's GuaranteedUpdate (the field manager and strategy run
// while other requests go on, and a write that lost the race is re-run,
// where a stale resourceVersion is a 409); watches honour label and field
// selectors, start from a resourceVersion, and expire (410 Gone).
//
// Use it in a unit test:
//
//	cluster := fakeopenshift.New(t.Context(), fakeopenshift.WithObjects(seeded...))
//	release := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000")
//	client := cluster.Client("shard-0") // a ctrlruntimeclient.WithWatch
//	// ... run the code under test with client (interceptor.NewClient works) ...
//	stats := cluster.Stats()            // requests, outcomes, writes, imports, pods
//
// Each process of a simulated aggregated job gets its own client, so the
// counters say who did what. A state-changing write is counted in
// Stats.Writes before its watch event goes out, so a test that has waited on
// a watch can read Stats at once; Stats.Calls counts every request with its
// outcome when the answer is returned.
//
// The import controller and the kubelet (with the scheduler's binding and
// the registry) reach objects through a backend: the store, or a real
// apiserver through a controller-runtime client, NewControllers, which runs
// them against kube-apiserver for test/integration. The ImageStream
// strategy's generation rules are exported (StampImageStreamCreate,
// StampImageStreamUpdate) for the mutating webhook that makes a custom
// resource stamp as openshift-apiserver does.
//
// # Fidelity
//
// Each behaviour below has a test named after it.
//
// Image API (OpenShift's, see OPENSHIFT.md):
//   - create sets generation 1 on the stream and every tag and wipes status
//     (TestCreateSetsGenerationOneAndWipesStatus);
//   - an update ignores a client's tag generation unless it is 0
//     (TestUpdateIgnoresClientTagGenerationUnlessZero);
//   - the stream generation moves only on a spec change
//     (TestStreamGenerationMovesOnlyOnSpecChange), a tag's only on from,
//     reference, importMode or generation 0 (TestTagGenerationFollowsRefChanges);
//   - spec.tags is a map sorted by name; apply rejects duplicates
//     (TestSpecTagsAreAMapSortedByName); reads show the policy defaults
//     (TestReadsShowPolicyDefaults);
//   - reference and ImageStreamTag tags get status at once
//     (TestReferenceAndImageStreamTagTagsGetStatusAtOnce); DockerImage tags are
//     imported asynchronously (TestDockerImageTagsImportedAsynchronously);
//   - an import's success and failure bump generations, keep or clear items
//     and conditions (TestImportSuccessPrependsOrMergesAndBumps,
//     TestImportFailureSetsConditionBumpsAndKeepsItems); an identical repeated
//     failure writes nothing (TestIdenticalRepeatedImportFailureWritesNothing);
//     nothing retries a failure (TestNoAutomaticRetryAfterImportFailure);
//     generation 0 forces a re-import
//     (TestGenerationZeroForcesReimportAndSameDigestBumps); an import with
//     nothing new writes nothing (TestNoOpImportWritesNothing) unless the
//     stream lacks the dockerRepositoryCheck annotation
//     (TestImageStreamImportStampsRepositoryCheck);
//   - ImageStreamImport is synchronous, checks resourceVersion and UID, creates
//     the stream and the tag and overwrites its importPolicy
//     (TestImageStreamImportIsSynchronous,
//     TestImageStreamImportCreatesStreamAndTagAndOverwritesImportPolicy);
//   - ImageStreamTag: 404 until imported, update, delete
//     (TestImageStreamTagNotFoundUntilImported, TestImageStreamTagUpdate,
//     TestImageStreamTagDeleteRemovesSpecAndStatus);
//   - an identical write changes neither resourceVersion nor generation
//     (TestIdenticalWriteChangesNothing); field selectors
//     (TestFieldSelectorsNameAndNamespace); referencePolicy changes only
//     resolved pull specs (TestReferencePolicyChangesOnlyResolvedPullSpecs);
//   - the controller's import 409s on a concurrent write and retries with
//     backoff (TestControllerImportConflictsWithConcurrentWritesAndRetries).
//
// Apiserver and kubelet:
//   - object metadata is validated as every strategy does: names by the
//     kind's rule (DNS-1123 subdomain for pods, configmaps, secrets; image
//     stream and tag names as openshift-apiserver), label keys and values
//     (TestApiserverValidatesNamesAndLabels);
//   - a ConfigMap's data and binaryData hold at most 1 MiB together, as
//     k8s.io/kubernetes ValidateConfigMap (MaxSecretSize) has it; a larger
//     one is 422 Invalid (TestApiserverLimitsConfigMapSize);
//   - pods are deleted gracefully: a bound, running pod gets a
//     deletionTimestamp and grace period (request, else spec, default 30s)
//     and stays Terminating, a create of its name gets AlreadyExists; unbound
//     or finished pods go at once (TestGracefulPodDeletionMarksTerminating);
//     the kubelet stops the container and removes the pod, MODIFIED then
//     DELETED (TestKubeletFinishesGracefulDeletion); see graceful.go;
//   - a scheduler binds each pod to NodeName before the kubelet starts it;
//   - image policy admission: a pod image "stream:tag" resolves through a
//     lookupPolicy.local stream of the pod's namespace
//     (TestPodImageResolvedThroughLocalLookupPolicy);
//   - registry credentials, opt-in per repository (Registry().Private): the
//     kubelet pulls with the pod's and its service account's
//     imagePullSecrets, else the container waits in ErrImagePull
//     (TestPrivateRepositoryNeedsAPullSecret); an import uses the docker
//     config secrets of the stream's namespace, else fails Unauthorized
//     (TestPrivateRepositoryImportNeedsNamespaceCredentials); `oc adm
//     release extract` of a private payload needs --registry-config naming a
//     docker config in a mounted secret volume, else fails unauthorized
//     (TestReleaseExtractOfAPrivatePayloadNeedsARegistryConfig); see
//     credentials.go and shell.
//
// Test tools:
//   - Stats.Calls: every request by process, verb, kind, field manager and
//     outcome; request and watch bytes per process (TestStatsCallOutcomes,
//     TestStatsWatchBytes);
//   - faults by count, probability (seeded, WithSeed), time window, and as
//     client-side transport errors (TestInjectFault,
//     TestFaultProbabilityIsSeeded, TestFaultTimeWindow,
//     TestFaultClientErrors); pod faults (TestKubeletPodFaults);
//   - a stuck import controller (StickImportController): it imports
//     nothing more while ImageStreamImports are still served
//     (TestStuckImportControllerImportsNothing);
//   - latency profiles: DefaultLatency for tests, RealClusterLatency and
//     Scaled to run a real cluster's ratios faster (TestRealClusterLatency);
//   - WithObjects seeds objects with their status, and the client works under
//     controller-runtime's interceptor (TestPromoteStepOnTheFake).
//
// # Limits
//
// Not modelled: admission other than image policy's local lookup, quota and RBAC enforcement; `oc registry login`, $HOME/.docker/config.json
// and environment variables in pod scripts (the shell knows only the
// commands it documents), and the kubelet's alternation of ErrImagePull and
// ImagePullBackOff (it tries once); list pagination; finalizers and garbage collection of
// owned objects; the kubelet's restarts (pods run once, whatever the
// restartPolicy) and container logs; node failures other than the pod
// faults; watch bookmarks; unstructured objects. Pods run only the programs
// the kubelet documents (see runProgram and shell). Probabilistic faults are
// deterministic for a seed only when the requests come in the same order.
package fakeopenshift
