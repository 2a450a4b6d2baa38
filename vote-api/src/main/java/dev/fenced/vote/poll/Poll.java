package dev.fenced.vote.poll;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A row of {@code polls}. Never changes once created. */
@Entity
@Table(name = "polls")
public class Poll extends PanacheEntityBase {

  @Id public String id;

  @Column(nullable = false)
  public String title;

  @JdbcTypeCode(SqlTypes.ARRAY)
  @Column(nullable = false, columnDefinition = "text[]")
  public String[] options;
}
