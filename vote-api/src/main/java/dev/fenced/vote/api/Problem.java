package dev.fenced.vote.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The body of every error answer, in the spirit of RFC 7807: the HTTP status, a short title, what
 * went wrong in this request, and the request field at fault (null when no single field is).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(int status, String title, String detail, String field) {}
