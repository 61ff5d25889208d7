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
    /** A position lies past what the sequence's cache can hold. */
    OUT_OF_RANGE,
    /** The sequence is in a state that does not allow the request (e.g. held by another router). */
    FAILED_PRECONDITION,
    /** Anything else. */
    INTERNAL;

    /** Returns the constant named like {@code grpcCodeName}, or INTERNAL for codes without one. */
    public static FailureCode fromName(String grpcCodeName) {
        for (FailureCode code : values()) {
            if (code.name().equals(grpcCodeName)) {
                return code;
            }
        }
        return INTERNAL;
    }
}
