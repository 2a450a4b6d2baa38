package dev.fenced.tally;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/** {@code GET /api/tally/status}: the shards this replica owns and how much waits in each. */
@Path("/api/tally/status")
public class StatusResource {

  /** The status answer. */
  public record Status(
      String workerId,
      boolean enabled,
      long liveWorkers,
      int fairShare,
      List<TallyWorker.OwnedShard> owned,
      double folds,
      double foldedBallots,
      double fenceRejections) {}

  private final WorkerLifecycle lifecycle;

  StatusResource(WorkerLifecycle lifecycle) {
    this.lifecycle = lifecycle;
  }

  @GET
  @Produces(MediaType.APPLICATION_JSON)
  public Status status() {
    TallyWorker w = lifecycle.instance();
    boolean enabled = lifecycle.worker().isPresent();
    return new Status(
        w.workerId(),
        enabled,
        w.liveWorkers(),
        w.fairShare(),
        w.owned(),
        w.metrics().folds(),
        w.metrics().foldedBallots(),
        w.metrics().rejections());
  }
}
