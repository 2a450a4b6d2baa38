package dev.fenced.vote.api;

/** A recorded vote: the option's live count after it, and the fencing token it was written with. */
public record VoteAnswer(String poll, String option, String voter, long count, long fence) {}
