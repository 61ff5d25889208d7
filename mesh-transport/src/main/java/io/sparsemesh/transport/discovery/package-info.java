/**
 * Finding the replicas of a service unit and choosing among them. An
 * {@link io.sparsemesh.transport.discovery.EndpointGroup} holds the interchangeable replicas of one
 * expert shard (or of the attention service), from a static {@code host:port} list, an
 * {@code in-process:<name>} target for the embedded mode, or a {@code dns:///host:port} name whose
 * address records are re-resolved periodically (a Kubernetes headless service). Calls go
 * round-robin over healthy replicas, and a failed replica sits out before it is tried again.
 */
package io.sparsemesh.transport.discovery;
