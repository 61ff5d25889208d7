package io.sparsemesh.core.tensor;

import static io.sparsemesh.core.tensor.Dequantize.F32_LE;
import static io.sparsemesh.core.tensor.Dequantize.I16_LE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scalar reference kernels. Vectorised kernels must agree with these; tests compare the two. The
 * {@link KernelBackend#SCALAR} backend runs them when the Vector API is not available.
 */
public final class Kernels {

    private Kernels() {
    }

    /** {@code out[b·rows + r] = Σ_c w[r][c] · x[b·cols + c]}, a plain triple loop. */
    public static void matmul(float[] w, int wOffset, int rows, int cols,
                              float[] x, int xOffset, float[] out, int outOffset, int batch) {
        for (int b = 0; b < batch; b++) {
            int xRow = xOffset + b * cols;
            for (int r = 0; r < rows; r++) {
                int wRow = wOffset + r * cols;
                float sum = 0f;
                for (int c = 0; c < cols; c++) {
                    sum += w[wRow + c] * x[xRow + c];
                }
                out[outOffset + b * rows + r] = sum;
            }
        }
    }

    /** Returns {@code Σ_i a[aOffset + i] · b[bOffset + i]} for {@code i < count}. */
    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int count) {
        float sum = 0f;
        for (int i = 0; i < count; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /**
     * Returns the dot product of {@code count} weights of {@code dtype}, stored from byte
     * {@code offset} of {@code w}, with {@code x[xOffset ..)}. For block types {@code offset}
     * must start a block and {@code count} must be whole blocks.
     */
    public static float dot(DType dtype, MemorySegment w, long offset, float[] x, int xOffset, int count) {
        return switch (dtype) {
            case F32 -> dotF32(w, offset, x, xOffset, count);
            case F16 -> dotF16(w, offset, x, xOffset, count);
            case BF16 -> dotBf16(w, offset, x, xOffset, count);
            case Q8_0 -> dotQ8_0(w, offset, x, xOffset, count);
            case Q4_0 -> dotQ4_0(w, offset, x, xOffset, count);
            case Q4_K -> dotQ4_K(w, offset, x, xOffset, count);
            case Q6_K -> dotQ6_K(w, offset, x, xOffset, count);
            default -> throw new UnsupportedOperationException("no dot product kernel for " + dtype);
        };
    }

    static float dotF32(MemorySegment w, long offset, float[] x, int xOffset, int count) {
        float sum = 0f;
        for (int c = 0; c < count; c++) {
            sum += w.get(F32_LE, offset + 4L * c) * x[xOffset + c];
        }
        return sum;
    }

    static float dotF16(MemorySegment w, long offset, float[] x, int xOffset, int count) {
        float sum = 0f;
        for (int c = 0; c < count; c++) {
            sum += Float.float16ToFloat(w.get(I16_LE, offset + 2L * c)) * x[xOffset + c];
        }
        return sum;
    }

    static float dotBf16(MemorySegment w, long offset, float[] x, int xOffset, int count) {
        float sum = 0f;
        for (int c = 0; c < count; c++) {
            sum += Float.intBitsToFloat(w.get(I16_LE, offset + 2L * c) << 16) * x[xOffset + c];
        }
        return sum;
    }

    /** Sums {@code q·x} in each block, then scales the block's sum by its {@code d}. */
    static float dotQ8_0(MemorySegment w, long offset, float[] x, int xOffset, int count) {
        float sum = 0f;
        for (int block = 0; block < count / 32; block++) {
            long at = offset + 34L * block;
            int xAt = xOffset + 32 * block;
            float blockSum = 0f;
            for (int j = 0; j < 32; j++) {
                blockSum += w.get(ValueLayout.JAVA_BYTE, at + 2 + j) * x[xAt + j];
            }
            sum += Dequantize.f16(w, at) * blockSum;
        }
        return sum;
    }

    static float dotQ4_0(MemorySegment w, long offset, float[] x, int xOffset, int count) {
        float sum = 0f;
        for (int block = 0; block < count / 32; block++) {
            long at = offset + 18L * block;
            int xAt = xOffset + 32 * block;
            float blockSum = 0f;
            for (int j = 0; j < 16; j++) {
                int packed = Dequantize.unsignedByte(w, at + 2 + j);
                blockSum += ((packed & 0x0F) - 8) * x[xAt + j] + ((packed >>> 4) - 8) * x[xAt + j + 16];
            }
            sum += Dequantize.f16(w, at) * blockSum;
        }
        return sum;
    }

    /** Uses {@code Σ (d·scale·q - dmin·min)·x = d·scale·Σ q·x - dmin·min·Σ x} per sub-block of 32. */
    static float dotQ4_K(MemorySegment w, long offset, float[] x, int xOffset, int count) {
        float sum = 0f;
        for (int block = 0; block < count / 256; block++) {
            long at = offset + 144L * block;
            float d = Dequantize.f16(w, at);
            float dmin = Dequantize.f16(w, at + 2);
            for (int sub = 0; sub < 8; sub++) {
                int xAt = xOffset + 256 * block + 32 * sub;
                long values = at + Dequantize.Q4_K_QS + 32L * (sub / 2);
                int shift = 4 * (sub % 2);
                float qx = 0f;
                float xSum = 0f;
                for (int l = 0; l < 32; l++) {
                    qx += ((Dequantize.unsignedByte(w, values + l) >>> shift) & 0x0F) * x[xAt + l];
                    xSum += x[xAt + l];
                }
                sum += d * Dequantize.q4_KScale(w, at, sub) * qx - dmin * Dequantize.q4_KMin(w, at, sub) * xSum;
            }
        }
        return sum;
    }

    /** Sums {@code (q - 32)·x} over each group of 16 elements, then scales by {@code d·scale}. */
    static float dotQ6_K(MemorySegment w, long offset, float[] x, int xOffset, int count) {
        float sum = 0f;
        for (int block = 0; block < count / 256; block++) {
            long at = offset + 210L * block;
            float d = Dequantize.f16(w, at + Dequantize.Q6_K_D);
            for (int group = 0; group < 16; group++) {
                int element = 16 * group;
                int half = element / 128;
                int k = element % 128 / 32;
                int firstL = element % 32;
                float groupSum = 0f;
                for (int l = firstL; l < firstL + 16; l++) {
                    int low = Dequantize.unsignedByte(w, at + 64L * half + l + 32 * (k % 2));
                    int high = Dequantize.unsignedByte(w, at + Dequantize.Q6_K_QH + 32L * half + l);
                    int q = ((low >>> (4 * (k / 2))) & 0x0F) | (((high >>> (2 * k)) & 3) << 4);
                    groupSum += (q - 32) * x[xOffset + 256 * block + 128 * half + 32 * k + l];
                }
                float scale = w.get(ValueLayout.JAVA_BYTE, at + Dequantize.Q6_K_SCALES + 8L * half + firstL / 16 + 2 * k);
                sum += d * scale * groupSum;
            }
        }
        return sum;
    }
}
