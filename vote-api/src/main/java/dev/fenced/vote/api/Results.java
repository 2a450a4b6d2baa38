package dev.fenced.vote.api;

import java.util.Map;

/**
 * A poll's numbers: live {@code counts} (lock-protected counters), recorded {@code ballots} (the
 * truth), and what tally-worker has folded so far ({@code tally}, {@code tallied}).
 */
public record Results(
    String poll, Map<String, Long> counts, long ballots, Map<String, Long> tally, long tallied) {}
