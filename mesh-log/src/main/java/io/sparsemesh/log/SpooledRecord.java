package io.sparsemesh.log;

/**
 * A record read from a {@link Spool}, with the position just after it.
 *
 * @param key          Kafka record key, UTF-8
 * @param value        record value (JSON)
 * @param segment      number of the segment that holds it
 * @param nextPosition byte position after the record in that segment
 */
record SpooledRecord(byte[] key, byte[] value, long segment, long nextPosition) {
}
