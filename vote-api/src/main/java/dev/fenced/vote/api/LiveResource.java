package dev.fenced.vote.api;

import dev.fenced.vote.live.LiveFeeds;
import dev.fenced.vote.live.LocksView;
import dev.fenced.vote.live.LocksViews;
import dev.fenced.vote.poll.PollCatalog;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.jboss.resteasy.reactive.ResponseHeader;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;
import org.jboss.resteasy.reactive.RestStreamElementType;

/**
 * What the page reads besides the vote API: the list of polls, a poll's results and locks pushed as
 * server-sent events, and the locks as one answer. Additive to design §5.
 */
@Path("/api/polls")
public class LiveResource {

  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 500;

  private final PollCatalog catalog;
  private final LiveFeeds feeds;
  private final LocksViews locks;

  LiveResource(PollCatalog catalog, LiveFeeds feeds, LocksViews locks) {
    this.catalog = catalog;
    this.feeds = feeds;
    this.locks = locks;
  }

  @GET
  @Produces(MediaType.APPLICATION_JSON)
  @Operation(summary = "The polls, newest first")
  @APIResponse(responseCode = "200", description = "at most limit polls")
  @APIResponse(
      responseCode = "400",
      description = "limit out of range",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  public Uni<List<PollView>> list(@RestQuery String limit) {
    return catalog.newest(limit(limit));
  }

  static int limit(String text) {
    if (text == null || text.isBlank()) {
      return DEFAULT_LIMIT;
    }
    try {
      int n = Integer.parseInt(text.strip());
      if (n >= 1 && n <= MAX_LIMIT) {
        return n;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw ProblemException.badRequest(
        "limit", "limit must be a whole number from 1 to " + MAX_LIMIT + ", was '" + text + "'");
  }

  @GET
  @Path("{id}/results/stream")
  @Produces(MediaType.SERVER_SENT_EVENTS)
  @RestStreamElementType(MediaType.APPLICATION_JSON)
  @Operation(
      summary =
          "The poll's results as server-sent events: the current numbers at once, then every"
              + " change")
  @APIResponse(responseCode = "200", description = "a stream of results, as GET .../results")
  @APIResponse(
      responseCode = "404",
      description = "no such poll",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  @KnownPoll
  @ResponseHeader(name = "X-Accel-Buffering", value = "no")
  @ResponseHeader(name = "Cache-Control", value = "no-cache")
  public Multi<Results> resultsStream(@RestPath String id) {
    return feeds.results(id);
  }

  @GET
  @Path("{id}/locks")
  @Produces(MediaType.APPLICATION_JSON)
  @Operation(
      summary =
          "The locks behind the poll: governing policies, newest fencing tokens, and the"
              + " answering replica's lock metrics")
  @APIResponse(responseCode = "200", description = "the locks view")
  @APIResponse(
      responseCode = "404",
      description = "no such poll",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  public Uni<LocksView> locks(@RestPath String id) {
    Fields.id("id", id);
    return locks.of(id).map(v -> found(v, id));
  }

  @GET
  @Path("{id}/locks/stream")
  @Produces(MediaType.SERVER_SENT_EVENTS)
  @RestStreamElementType(MediaType.APPLICATION_JSON)
  @Operation(summary = "The locks view as server-sent events: now, then every change")
  @APIResponse(responseCode = "200", description = "a stream of locks views, as GET .../locks")
  @APIResponse(
      responseCode = "404",
      description = "no such poll",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  @KnownPoll
  @ResponseHeader(name = "X-Accel-Buffering", value = "no")
  @ResponseHeader(name = "Cache-Control", value = "no-cache")
  public Multi<LocksView> locksStream(@RestPath String id) {
    return feeds.locks(id);
  }

  private static <T> T found(T value, String id) {
    if (value == null) {
      throw ProblemException.notFound("id", noPoll(id));
    }
    return value;
  }

  private static String noPoll(String id) {
    return "no poll '" + id + "'";
  }
}
