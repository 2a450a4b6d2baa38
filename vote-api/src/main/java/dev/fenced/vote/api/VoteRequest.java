package dev.fenced.vote.api;

/** {@code POST /api/polls/{id}/votes}: {@code {"voter","option"}}. */
public record VoteRequest(String voter, String option) {}
