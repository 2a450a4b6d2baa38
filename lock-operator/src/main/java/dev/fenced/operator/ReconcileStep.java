package dev.fenced.operator;

/**
 * One step of a reconcile: reads the {@link Pass}, sets conditions and fills in what later steps
 * need, and says whether the pass goes on. Steps never wait on a backend longer than {@link
 * BackendCalls} allows.
 */
interface ReconcileStep {

  Outcome run(Pass pass);
}
