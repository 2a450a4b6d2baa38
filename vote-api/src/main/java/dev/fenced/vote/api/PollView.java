package dev.fenced.vote.api;

import java.util.List;

/** A poll as answered: {@code {"id","title","options"}}. */
public record PollView(String id, String title, List<String> options) {}
