package dev.fenced.vote.api;

import jakarta.ws.rs.NameBinding;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a resource method whose path {@code {id}} must name an existing poll before the method
 * runs: a server-sent event stream sends its head at once, so an unknown poll has to be answered
 * (404) before the stream starts ({@link KnownPollFilter}).
 */
@NameBinding
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface KnownPoll {}
