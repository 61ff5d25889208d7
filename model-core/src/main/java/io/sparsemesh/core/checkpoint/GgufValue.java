package io.sparsemesh.core.checkpoint;

import java.util.Objects;

/**
 * One typed GGUF metadata value. Integer types hold a {@link Long} (unsigned types already
 * widened, except UINT64 which keeps its raw bits), FLOAT32 a {@link Float}, FLOAT64 a
 * {@link Double}, BOOL a {@link Boolean}, STRING a {@link String} and ARRAY a {@link GgufArray}.
 */
public record GgufValue(GgufValueType type, Object value) {

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
    }

    /** Returns an integer value, widening unsigned types; fails for any other type. */
    public long asLong() {
        if (!type.isInteger()) {
            throw wrongType("an integer");
        }
        long raw = (Long) value;
        return type == GgufValueType.UINT64 ? checkedUnsigned(raw) : raw;
    }

    /** Returns an integer value that must fit in an int. */
    public int asInt() {
        return checkedInt(asLong(), "value");
    }

    /** Returns a numeric value (integer or floating point) as a double. */
    public double asDouble() {
        return switch (type) {
            case FLOAT32 -> (Float) value;
            case FLOAT64 -> (Double) value;
            default -> asLong();
        };
    }

    public float asFloat() {
        return (float) asDouble();
    }

    public boolean asBoolean() {
        if (type != GgufValueType.BOOL) {
            throw wrongType("a bool");
        }
        return (Boolean) value;
    }

    public String asString() {
        if (type != GgufValueType.STRING) {
            throw wrongType("a string");
        }
        return (String) value;
    }

    public GgufArray asArray() {
        if (type != GgufValueType.ARRAY) {
            throw wrongType("an array");
        }
        return (GgufArray) value;
    }

    static long checkedUnsigned(long raw) {
        if (raw < 0) {
            throw new IllegalStateException("UINT64 value " + Long.toUnsignedString(raw) + " does not fit in a long");
        }
        return raw;
    }

    static int checkedInt(long value, String what) {
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new IllegalStateException(what + " " + value + " does not fit in an int");
        }
        return (int) value;
    }

    private IllegalStateException wrongType(String expected) {
        return new IllegalStateException("GGUF value " + this + " is " + type + ", not " + expected);
    }

    @Override
    public String toString() {
        return type == GgufValueType.STRING ? '"' + (String) value + '"' : String.valueOf(value);
    }
}
