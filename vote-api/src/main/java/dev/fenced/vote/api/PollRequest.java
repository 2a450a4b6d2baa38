package dev.fenced.vote.api;

import java.util.List;

/** {@code POST /api/polls}: {@code {"id","title","options"}}. */
public record PollRequest(String id, String title, List<String> options) {}
