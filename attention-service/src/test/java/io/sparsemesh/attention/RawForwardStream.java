package io.sparsemesh.attention;

import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.sparsemesh.protocol.v1.AttentionGrpc;
import io.sparsemesh.protocol.v1.AttentionRequest;
import io.sparsemesh.protocol.v1.AttentionResponse;
import io.sparsemesh.protocol.v1.WireDType;
import io.sparsemesh.transport.TensorCodec;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A Forward stream driven by hand, one request and its response at a time, for protocol tests. */
final class RawForwardStream implements AutoCloseable {

    private final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private ClientCallStreamObserver<AttentionRequest> requests;

    RawForwardStream(Channel channel) {
        AttentionGrpc.newStub(channel).forward(new ClientResponseObserver<AttentionRequest, AttentionResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<AttentionRequest> stream) {
                requests = stream;
            }

            @Override
            public void onNext(AttentionResponse response) {
                received.add(response);
            }

            @Override
            public void onError(Throwable error) {
                received.add(error);
            }

            @Override
            public void onCompleted() {
                received.add("completed");
            }
        });
    }

    /** Sends {@code request} and returns its response; fails when the stream ends or 30 s pass first. */
    AttentionResponse send(AttentionRequest request) throws InterruptedException {
        requests.onNext(request);
        Object next = received.poll(30, TimeUnit.SECONDS);
        if (next instanceof AttentionResponse response) {
            return response;
        }
        throw new AssertionError("expected a response to step " + request.getStepId() + " layer " + request.getLayer()
                + ", got " + next);
    }

    /** Builds a request whose F32 hidden states, {@code hidden} wide, are {@code value} everywhere. */
    static AttentionRequest request(long stepId, int layer, long[] sequenceIds, int[] positions, int hidden, float value) {
        float[] states = new float[sequenceIds.length * hidden];
        java.util.Arrays.fill(states, value);
        AttentionRequest.Builder request = AttentionRequest.newBuilder()
                .setStepId(stepId)
                .setLayer(layer)
                .setHidden(TensorCodec.encode(states, sequenceIds.length, hidden, WireDType.WIRE_DTYPE_F32))
                .setResponseDtype(WireDType.WIRE_DTYPE_F32);
        for (long id : sequenceIds) {
            request.addSequenceIds(id);
        }
        for (int position : positions) {
            request.addPositions(position);
        }
        return request.build();
    }

    void cancel() {
        requests.cancel("test cancels the stream", null);
    }

    @Override
    public void close() {
        requests.onCompleted();
    }
}
