package dev.fenced.vote.poll;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

/** A row of {@code tallies}, written by tally-worker; read here for results. */
@Entity
@Table(name = "tallies")
@IdClass(OptionKey.class)
public class Tally extends PanacheEntityBase {

  @Id
  @Column(name = "poll_id")
  public String pollId;

  @Id public String option;

  @Column(name = "count", nullable = false)
  public long votes;
}
