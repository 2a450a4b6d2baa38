package dev.fenced.vote.poll;

import dev.fenced.vote.api.PollView;
import io.smallrye.mutiny.Uni;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The polls there are, newest first, for the page's list. */
@ApplicationScoped
public class PollCatalog {

  static final String NEWEST =
      "SELECT id, title, options FROM polls ORDER BY created_at DESC, id LIMIT $1";

  private final Pool pool;

  PollCatalog(Pool pool) {
    this.pool = pool;
  }

  /** At most {@code limit} polls, the newest first. */
  public Uni<List<PollView>> newest(int limit) {
    return Uni.createFrom()
        .completionStage(
            () -> pool.preparedQuery(NEWEST).execute(Tuple.of(limit)).toCompletionStage())
        .map(
            rows -> {
              List<PollView> out = new ArrayList<>(rows.size());
              for (Row row : rows) {
                out.add(
                    new PollView(
                        row.getString("id"),
                        row.getString("title"),
                        Arrays.asList(row.getArrayOfStrings("options"))));
              }
              return out;
            });
  }
}
