package dev.fenced.vote.api;

import dev.fenced.vote.ballot.VoteService;
import dev.fenced.vote.poll.PollService;
import dev.fenced.vote.poll.ResultsReader;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response.Status;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestResponse;

/** The vote HTTP API (design §5). */
@Path("/api/polls")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class PollResource {

  private final PollService polls;
  private final VoteService votes;
  private final ResultsReader results;
  private final JsonBodies bodies;

  PollResource(PollService polls, VoteService votes, ResultsReader results, JsonBodies bodies) {
    this.polls = polls;
    this.votes = votes;
    this.results = results;
    this.bodies = bodies;
  }

  @POST
  @Operation(summary = "Create a poll, or find the same poll")
  @APIResponse(responseCode = "201", description = "created")
  @APIResponse(responseCode = "200", description = "the same poll exists")
  @APIResponse(
      responseCode = "400",
      description = "invalid",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "409",
      description = "the id exists with other options",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  public Uni<RestResponse<PollView>> create(
      @RequestBody(content = @Content(schema = @Schema(implementation = PollRequest.class)))
          byte[] body) {
    return polls
        .create(bodies.read(body, PollRequest.class))
        .map(
            c ->
                c.created()
                    ? RestResponse.ResponseBuilder.<PollView>create(Status.CREATED, c.poll())
                        .location(URI.create("/api/polls/" + encode(c.poll().id())))
                        .build()
                    : RestResponse.ok(c.poll()));
  }

  @GET
  @Path("{id}")
  @Operation(summary = "A poll")
  @APIResponse(responseCode = "200", description = "the poll")
  @APIResponse(
      responseCode = "404",
      description = "no such poll",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  public Uni<PollView> get(@RestPath String id) {
    Fields.id("id", id);
    return polls.find(id).map(p -> found(p, id));
  }

  @POST
  @Path("{id}/votes")
  @Operation(summary = "Vote: record a ballot and count it under the option's lock")
  @APIResponse(responseCode = "201", description = "recorded and counted")
  @APIResponse(
      responseCode = "400",
      description = "unknown option or malformed body",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "404",
      description = "no such poll",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "409",
      description = "this voter has voted in this poll",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "503",
      description =
          "the lock could not be had in time; nothing was recorded, retry after Retry-After",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  public Uni<RestResponse<VoteAnswer>> vote(
      @RestPath String id,
      @RequestBody(content = @Content(schema = @Schema(implementation = VoteRequest.class)))
          byte[] body) {
    return votes
        .vote(id, bodies.read(body, VoteRequest.class))
        .map(a -> RestResponse.status(Status.CREATED, a));
  }

  @GET
  @Path("{id}/results")
  @Operation(
      summary = "Live counts, recorded ballots, and tally-worker's tally",
      description =
          "One query whose cost does not grow with the poll; each replica reuses it for"
              + " fenced.results.cache-ttl")
  @APIResponse(responseCode = "200", description = "the numbers")
  @APIResponse(
      responseCode = "404",
      description = "no such poll",
      content = @Content(schema = @Schema(implementation = Problem.class)))
  public Uni<Results> results(@RestPath String id) {
    Fields.id("id", id);
    return results.read(id).map(r -> found(r, id));
  }

  private static <T> T found(T value, String id) {
    if (value == null) {
      throw ProblemException.notFound("id", "no poll '" + id + "'");
    }
    return value;
  }

  private static String encode(String id) {
    return URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
