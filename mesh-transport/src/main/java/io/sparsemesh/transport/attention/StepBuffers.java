package io.sparsemesh.transport.attention;

/** Per-step scratch of {@link RemoteAttention}: for each layer range and replica, the rows it runs. */
final class StepBuffers {

    final ReplicaRows[][] rows;  // [group][replica]
    final long[] stepIds;        // per group, set when the step reaches the group's first layer

    StepBuffers(ReplicaGroup[] groups) {
        rows = new ReplicaRows[groups.length][];
        stepIds = new long[groups.length];
        for (int g = 0; g < groups.length; g++) {
            rows[g] = new ReplicaRows[groups[g].size()];
            for (int r = 0; r < rows[g].length; r++) {
                rows[g][r] = new ReplicaRows();
            }
        }
    }

    /** Pins every new sequence and splits the rows among the replicas of each layer range. */
    void assign(ReplicaGroup[] groups, long[] sequenceIds, int[] positions, int stepRows) {
        for (int g = 0; g < groups.length; g++) {
            for (ReplicaRows replicaRows : rows[g]) {
                replicaRows.clear(stepRows);
            }
            for (int row = 0; row < stepRows; row++) {
                ReplicaGroup.Pin pin = groups[g].pin(sequenceIds[row]);
                rows[g][pin.index].add(row, sequenceIds[row], positions[row], pin);
            }
        }
    }
}
