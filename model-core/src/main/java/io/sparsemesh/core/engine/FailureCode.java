package io.sparsemesh.core.engine;

/** Why a backend could not serve some rows; the names are the gRPC status codes services report. */
public enum FailureCode {
    /** No replica could serve the rows (dead shard, dead attention replica). */
    UNAVAILABLE,
    /** A limit was reached (sequences, cached tokens). */
    RESOURCE_EXHAUSTED,
    /** A deadline passed. */
    DEADLINE_EXCEEDED,
    /** The request was malformed. */
    INVALID_ARGUMENT,
    /** Anything else. */
    INTERNAL
}
