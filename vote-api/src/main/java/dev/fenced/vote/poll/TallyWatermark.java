package dev.fenced.vote.poll;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * A row of {@code tally_watermarks}. Created here with the poll (horizon and fence take their
 * column defaults); moved by tally-worker. The {@code horizon} (xid8) is tally-worker's business
 * and is not mapped.
 */
@Entity
@Table(name = "tally_watermarks")
public class TallyWatermark extends PanacheEntityBase {

  @Id
  @Column(name = "poll_id")
  public String pollId;

  @Column(nullable = false)
  public long tallied;

  @Column(nullable = false)
  public long fence;

  public static TallyWatermark start(String pollId) {
    TallyWatermark w = new TallyWatermark();
    w.pollId = pollId;
    return w;
  }
}
