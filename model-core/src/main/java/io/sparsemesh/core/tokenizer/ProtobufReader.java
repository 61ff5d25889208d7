package io.sparsemesh.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads protocol buffer wire format one field at a time, enough to pull a few fields out of a
 * SentencePiece {@code ModelProto} without a protobuf dependency. Fields are read in file order;
 * unknown fields are skipped. Malformed input raises {@link IllegalArgumentException} naming the offset.
 */
final class ProtobufReader {

    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final byte[] buffer;
    private final int end;
    private int position;
    /** Field number and wire type of the field whose value is next. */
    private int fieldNumber;
    private int wireType;

    ProtobufReader(byte[] buffer) {
        this(buffer, 0, buffer.length);
    }

    private ProtobufReader(byte[] buffer, int start, int end) {
        this.buffer = buffer;
        this.position = start;
        this.end = end;
    }

    /** Reads the next field's tag; returns false at the end of the message. */
    boolean nextField() {
        if (position >= end) {
            return false;
        }
        long tag = readVarint();
        fieldNumber = (int) (tag >>> 3);
        wireType = (int) (tag & 7);
        if (fieldNumber == 0) {
            throw malformed("field number 0");
        }
        return true;
    }

    int fieldNumber() {
        return fieldNumber;
    }

    int wireType() {
        return wireType;
    }

    long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (position >= end) {
                throw malformed("a varint that runs past the end of the message");
            }
            byte b = buffer[position++];
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw malformed("a varint longer than 10 bytes");
    }

    /** Reads an int32 or enum value; negative numbers are sign-extended 10-byte varints. */
    int readInt32() {
        expect(VARINT);
        return (int) readVarint();
    }

    boolean readBool() {
        expect(VARINT);
        return readVarint() != 0;
    }

    float readFloat() {
        expect(FIXED32);
        require(4);
        int bits = (buffer[position] & 0xFF) | (buffer[position + 1] & 0xFF) << 8
                | (buffer[position + 2] & 0xFF) << 16 | (buffer[position + 3] & 0xFF) << 24;
        position += 4;
        return Float.intBitsToFloat(bits);
    }

    String readString() {
        int length = readLength();
        String value = new String(buffer, position, length, StandardCharsets.UTF_8);
        position += length;
        return value;
    }

    byte[] readBytes() {
        int length = readLength();
        byte[] value = Arrays.copyOfRange(buffer, position, position + length);
        position += length;
        return value;
    }

    /** Returns a reader over the embedded message that is the current field's value. */
    ProtobufReader readMessage() {
        int length = readLength();
        ProtobufReader message = new ProtobufReader(buffer, position, position + length);
        position += length;
        return message;
    }

    /** Skips the current field's value. */
    void skipField() {
        switch (wireType) {
            case VARINT -> readVarint();
            case FIXED64 -> skip(8);
            case LENGTH_DELIMITED -> skip(readLength());
            case FIXED32 -> skip(4);
            default -> throw malformed("wire type " + wireType + " of field " + fieldNumber
                    + " (groups and unknown types are not supported)");
        }
    }

    private int readLength() {
        expect(LENGTH_DELIMITED);
        long length = readVarint();
        if (length < 0 || length > end - position) {
            throw malformed("field " + fieldNumber + " with length " + length + " but only "
                    + (end - position) + " bytes left");
        }
        return (int) length;
    }

    private void skip(int bytes) {
        require(bytes);
        position += bytes;
    }

    private void require(int bytes) {
        if (end - position < bytes) {
            throw malformed("field " + fieldNumber + " that needs " + bytes + " bytes but only "
                    + (end - position) + " are left");
        }
    }

    private void expect(int expectedWireType) {
        if (wireType != expectedWireType) {
            throw malformed("field " + fieldNumber + " with wire type " + wireType + ", expected "
                    + expectedWireType);
        }
    }

    private IllegalArgumentException malformed(String problem) {
        return new IllegalArgumentException("malformed protobuf at byte " + position + ": " + problem);
    }
}
