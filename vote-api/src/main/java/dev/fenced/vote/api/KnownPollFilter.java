package dev.fenced.vote.api;

import dev.fenced.vote.poll.PollService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/** Answers 400 or 404 for the {@link KnownPoll} methods whose poll id is invalid or unknown. */
public class KnownPollFilter {

  private final PollService polls;

  KnownPollFilter(PollService polls) {
    this.polls = polls;
  }

  @KnownPoll
  @ServerRequestFilter
  public Uni<Response> requirePoll(UriInfo uri) {
    String id = Fields.id("id", uri.getPathParameters().getFirst("id"));
    return polls
        .find(id)
        .map(
            poll -> {
              if (poll == null) {
                throw ProblemException.notFound("id", "no poll '" + id + "'");
              }
              return null;
            });
  }
}
