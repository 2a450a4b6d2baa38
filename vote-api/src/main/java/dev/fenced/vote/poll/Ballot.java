package dev.fenced.vote.poll;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * A row of {@code ballots}, read here for results. Ballots are inserted only by the vote
 * transaction ({@code VoteSql}); {@code cast_at} and {@code tx} are left to their defaults there.
 */
@Entity
@Table(name = "ballots")
public class Ballot extends PanacheEntityBase {

  @Id public Long seq;

  @Column(name = "poll_id", nullable = false)
  public String pollId;

  @Column(nullable = false)
  public String voter;

  @Column(nullable = false)
  public String option;
}
