package io.sparsemesh.router.log;

import io.sparsemesh.router.GenerationCommand;
import io.sparsemesh.router.GenerationEvents;

/**
 * Wraps the events of each generation that {@link io.sparsemesh.router.GenerationService} starts,
 * after the request passed validation, to observe them (the generation log does). The wrapper
 * must pass every event on and, like all {@link GenerationEvents}, must not block.
 */
@FunctionalInterface
public interface GenerationEventsDecorator {

    /** Returns the events to report {@code command}'s generation to; {@code events} must receive every call. */
    GenerationEvents decorate(GenerationCommand command, GenerationEvents events);

    /** A decorator that returns the events unchanged. */
    static GenerationEventsDecorator none() {
        return (command, events) -> events;
    }
}
