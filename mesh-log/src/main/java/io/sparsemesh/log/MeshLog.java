package io.sparsemesh.log;

/**
 * Where components publish their log records. {@link #publish} never blocks on the network and
 * never throws for delivery problems: a record that cannot be kept is counted and dropped.
 */
public interface MeshLog extends AutoCloseable {

    /** Hands a record over for delivery. */
    void publish(LogRecord record);

    /** Stops accepting records and releases resources; records not yet delivered may be kept for the next start. */
    @Override
    void close();

    /** A log that discards every record, for when no Kafka broker is configured. */
    static MeshLog disabled() {
        return Disabled.INSTANCE;
    }

    /** The log of {@link #disabled()}. */
    enum Disabled implements MeshLog {
        INSTANCE;

        @Override
        public void publish(LogRecord record) {
        }

        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return "MeshLog.disabled()";
        }
    }
}
