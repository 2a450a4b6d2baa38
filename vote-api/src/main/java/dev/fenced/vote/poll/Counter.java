package dev.fenced.vote.poll;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

/**
 * A row of {@code counters}: one option's live count and the newest fencing token that wrote it.
 * Created here with the poll; written only by the vote transaction ({@code VoteSql}).
 */
@Entity
@Table(name = "counters")
@IdClass(OptionKey.class)
public class Counter extends PanacheEntityBase {

  @Id
  @Column(name = "poll_id")
  public String pollId;

  @Id public String option;

  @Column(name = "count", nullable = false)
  public long votes;

  @Column(nullable = false)
  public long fence;

  public static Counter zero(String pollId, String option) {
    Counter c = new Counter();
    c.pollId = pollId;
    c.option = option;
    return c;
  }
}
