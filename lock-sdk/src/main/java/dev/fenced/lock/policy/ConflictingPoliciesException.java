package dev.fenced.lock.policy;

import dev.fenced.lock.InvalidLockPolicyException;
import java.util.List;
import java.util.stream.Collectors;

/** A lock name is claimed equally by two or more policies, so none of them may govern it. */
public class ConflictingPoliciesException extends InvalidLockPolicyException {

  private final transient List<Resolution> claims;

  public ConflictingPoliciesException(String lockName, List<Resolution> claims) {
    super(
        lockName,
        "lock name \""
            + lockName
            + "\" is claimed equally by "
            + claims.stream().map(Resolution::toString).collect(Collectors.joining(" and "))
            + ": their literal prefixes are equally long, so none of them governs it; make one"
            + " pattern's literal prefix longer or remove one");
    this.claims = List.copyOf(claims);
  }

  /** The tied policies with the pattern each matched through. */
  public List<Resolution> claims() {
    return claims;
  }
}
