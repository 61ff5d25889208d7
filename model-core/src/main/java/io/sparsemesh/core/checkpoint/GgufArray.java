package io.sparsemesh.core.checkpoint;

import java.util.Arrays;
import java.util.Objects;

/**
 * A GGUF metadata array. Elements stay in a primitive Java array of the stored width (a
 * vocabulary of 150,000 scores is one {@code float[]}, not 150,000 boxed values):
 * {@code byte[]} for UINT8, INT8 and BOOL, {@code short[]} for the 16-bit types, {@code int[]} for
 * the 32-bit integers, {@code long[]} for the 64-bit integers, {@code float[]}, {@code double[]},
 * {@code String[]}, and {@code GgufArray[]} for nested arrays. Unsigned elements are widened on access.
 */
public final class GgufArray {

    private final GgufValueType elementType;
    private final Object elements;
    private final int size;

    GgufArray(GgufValueType elementType, Object elements) {
        this.elementType = Objects.requireNonNull(elementType, "elementType");
        this.elements = Objects.requireNonNull(elements, "elements");
        this.size = java.lang.reflect.Array.getLength(elements);
    }

    public GgufValueType elementType() {
        return elementType;
    }

    public int size() {
        return size;
    }

    /** Returns integer element {@code i}, widening unsigned types; fails for non-integer elements. */
    public long longAt(int i) {
        Objects.checkIndex(i, size);
        return switch (elementType) {
            case UINT8 -> ((byte[]) elements)[i] & 0xFFL;
            case INT8 -> ((byte[]) elements)[i];
            case UINT16 -> ((short[]) elements)[i] & 0xFFFFL;
            case INT16 -> ((short[]) elements)[i];
            case UINT32 -> ((int[]) elements)[i] & 0xFFFF_FFFFL;
            case INT32 -> ((int[]) elements)[i];
            case UINT64 -> GgufValue.checkedUnsigned(((long[]) elements)[i]);
            case INT64 -> ((long[]) elements)[i];
            default -> throw wrongType("an integer");
        };
    }

    /** Returns numeric element {@code i} (integer or floating point) as a double. */
    public double doubleAt(int i) {
        Objects.checkIndex(i, size);
        return switch (elementType) {
            case FLOAT32 -> ((float[]) elements)[i];
            case FLOAT64 -> ((double[]) elements)[i];
            default -> elementType.isInteger() ? longAt(i) : throwWrongType("a number");
        };
    }

    public boolean booleanAt(int i) {
        Objects.checkIndex(i, size);
        if (elementType != GgufValueType.BOOL) {
            throw wrongType("a bool");
        }
        return ((byte[]) elements)[i] != 0;
    }

    public String stringAt(int i) {
        Objects.checkIndex(i, size);
        if (elementType != GgufValueType.STRING) {
            throw wrongType("a string");
        }
        return ((String[]) elements)[i];
    }

    public GgufArray arrayAt(int i) {
        Objects.checkIndex(i, size);
        if (elementType != GgufValueType.ARRAY) {
            throw wrongType("an array");
        }
        return ((GgufArray[]) elements)[i];
    }

    /** Returns element {@code i} as a typed value. */
    public GgufValue get(int i) {
        Objects.checkIndex(i, size);
        return switch (elementType) {
            case FLOAT32 -> new GgufValue(elementType, ((float[]) elements)[i]);
            case FLOAT64 -> new GgufValue(elementType, ((double[]) elements)[i]);
            case BOOL -> new GgufValue(elementType, booleanAt(i));
            case STRING -> new GgufValue(elementType, stringAt(i));
            case ARRAY -> new GgufValue(elementType, arrayAt(i));
            case UINT64 -> new GgufValue(elementType, ((long[]) elements)[i]);
            default -> new GgufValue(elementType, longAt(i));
        };
    }

    /** Returns the integer elements as ints, failing when one does not fit. */
    public int[] toIntArray() {
        if (elementType == GgufValueType.INT32) {
            return ((int[]) elements).clone();
        }
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            out[i] = GgufValue.checkedInt(longAt(i), "element " + i);
        }
        return out;
    }

    public long[] toLongArray() {
        long[] out = new long[size];
        for (int i = 0; i < size; i++) {
            out[i] = longAt(i);
        }
        return out;
    }

    /** Returns the numeric elements as floats (FLOAT64 and integers are converted). */
    public float[] toFloatArray() {
        if (elementType == GgufValueType.FLOAT32) {
            return ((float[]) elements).clone();
        }
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = (float) doubleAt(i);
        }
        return out;
    }

    public String[] toStringArray() {
        if (elementType != GgufValueType.STRING) {
            throw wrongType("a string");
        }
        return ((String[]) elements).clone();
    }

    private double throwWrongType(String expected) {
        throw wrongType(expected);
    }

    private IllegalStateException wrongType(String expected) {
        return new IllegalStateException("GGUF array elements are " + elementType + ", not " + expected);
    }

    @Override
    public String toString() {
        String preview = switch (elements) {
            case String[] strings -> Arrays.toString(Arrays.copyOf(strings, Math.min(size, 4)));
            case float[] floats -> Arrays.toString(Arrays.copyOf(floats, Math.min(size, 4)));
            default -> "";
        };
        return elementType + "[" + size + "]" + preview;
    }
}
