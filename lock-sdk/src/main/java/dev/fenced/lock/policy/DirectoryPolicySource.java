package dev.fenced.lock.policy;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LockPolicies from a folder of YAML files ({@code *.yaml}, {@code *.yml}; several documents per
 * file), the same files {@code kubectl apply -f} takes, for runs without a cluster.
 *
 * <p>Each file is all or nothing: a file is accepted when every LockPolicy in it reads cleanly and
 * passes {@link LockPolicyValidator}; otherwise each problem is reported (file, line where the
 * parser gives one, field, message) and the version of that file accepted before stays in force, so
 * a bad edit never takes a working policy away. Deleting a file removes its policies. A policy name
 * defined in two files is a problem on the file that came second.
 *
 * <p>Changes are picked up through a {@link WatchService} with a short debounce (editors write in
 * several steps), and by a periodic rescan as a fallback for file systems that do not report
 * events. Hidden entries are skipped, which also skips the {@code ..data} links of a mounted
 * ConfigMap while still reading its files.
 *
 * <p>There is no operator and so no status in this mode: each accepted policy gets a {@code Ready}
 * condition ({@code reason: LoadedFromFile}); a policy without a namespace gets {@code default}, as
 * with {@code kubectl apply}. Its fencing epoch comes from the annotation {@value
 * #EPOCH_ANNOTATION} (0 when absent): raise it when moving a lock family to another backend, so the
 * new backend's tokens stay above the old one's. The epoch in force can be higher: {@link
 * PolicyLocks} raises it through the backend's ledger when the backend changes incarnation (see
 * {@link #operatorManaged()}).
 */
public final class DirectoryPolicySource extends PublishingPolicySource {

  /** The annotation holding a file policy's fencing epoch. */
  public static final String EPOCH_ANNOTATION = "locks.fenced.dev/epoch";

  public static final String DEFAULT_NAMESPACE = "default";
  public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(200);
  public static final Duration DEFAULT_RESCAN_INTERVAL = Duration.ofSeconds(10);

  private static final Logger LOG = LoggerFactory.getLogger(DirectoryPolicySource.class);

  /**
   * What is known about one file: its last content, the policies in force from it, its problems.
   */
  private record FileState(
      byte[] digest, List<LockPolicy> accepted, List<PolicyProblem> problems) {}

  private final Path directory;
  private final Duration debounce;
  private final ScheduledExecutorService scanner;
  private final WatchService watchService;
  private final Thread watcher;
  private volatile Thread scanThread;

  // Touched only on the scan thread.
  private final Map<Path, FileState> files = new TreeMap<>();
  private ScheduledFuture<?> pendingScan;

  private volatile boolean closed;

  /** Watches {@code directory} with the default debounce and rescan interval. */
  public DirectoryPolicySource(Path directory) {
    this(directory, DEFAULT_DEBOUNCE, DEFAULT_RESCAN_INTERVAL);
  }

  /**
   * Reads {@code directory} once before returning, then keeps watching it.
   *
   * @param debounce how long to wait after a file event for more to arrive before reading
   * @param rescanInterval how often to read the folder regardless of events
   * @throws IllegalArgumentException when {@code directory} is not a readable folder
   */
  public DirectoryPolicySource(Path directory, Duration debounce, Duration rescanInterval) {
    this.directory = Objects.requireNonNull(directory, "directory").toAbsolutePath().normalize();
    this.debounce = Objects.requireNonNull(debounce, "debounce");
    if (!Files.isDirectory(this.directory)) {
      throw new IllegalArgumentException(
          "policy directory " + this.directory + " does not exist or is not a folder");
    }
    if (rescanInterval.isZero() || rescanInterval.isNegative()) {
      throw new IllegalArgumentException("rescanInterval must be positive, was " + rescanInterval);
    }
    this.scanner =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "fenced-policy-scan " + this.directory.getFileName());
              t.setDaemon(true);
              scanThread = t;
              return t;
            });
    try {
      this.watchService = this.directory.getFileSystem().newWatchService();
      this.directory.register(watchService, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE);
    } catch (IOException e) {
      scanner.shutdownNow();
      throw new IllegalArgumentException(
          "cannot watch policy directory " + this.directory + ": " + e.getMessage(), e);
    }
    this.watcher = new Thread(this::watch, "fenced-policy-watch " + this.directory.getFileName());
    watcher.setDaemon(true);
    watcher.start();
    long rescanMillis = Math.max(1, rescanInterval.toMillis());
    scanner.scheduleWithFixedDelay(
        this::scanSafely, rescanMillis, rescanMillis, TimeUnit.MILLISECONDS);
    rescan();
  }

  /** Reads the folder now and returns once done; listeners are told about any change first. */
  public void rescan() {
    if (Thread.currentThread() == scanThread) {
      scanSafely();
      return;
    }
    try {
      scanner.submit(this::scanSafely).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      throw new IllegalStateException("policy scan of " + directory + " failed", e.getCause());
    } catch (java.util.concurrent.RejectedExecutionException e) {
      throw new IllegalStateException("policy source for " + directory + " is closed", e);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      watchService.close();
    } catch (IOException e) {
      LOG.debug("closing the watch on {}", directory, e);
    }
    scanner.shutdownNow();
    watcher.interrupt();
  }

  private void watch() {
    while (!closed) {
      WatchKey key;
      try {
        key = watchService.take();
      } catch (InterruptedException | ClosedWatchServiceException e) {
        return;
      }
      key.pollEvents(); // which file changed does not matter: a scan compares contents
      key.reset();
      scheduleScan();
    }
  }

  private void scheduleScan() {
    try {
      scanner.execute(
          () -> {
            if (pendingScan != null) {
              pendingScan.cancel(false);
            }
            pendingScan =
                scanner.schedule(this::scanSafely, debounce.toMillis(), TimeUnit.MILLISECONDS);
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  /** One scan; never lets an exception escape, which would end the periodic rescans. */
  private void scanSafely() {
    if (closed) {
      return;
    }
    try {
      scan();
    } catch (RuntimeException e) {
      LOG.error("reading policies from {} failed; keeping the policies in force", directory, e);
    }
  }

  private void scan() {
    Set<Path> present = listPolicyFiles();
    boolean policiesChanged = files.keySet().retainAll(present);
    // Files are read in name order; a retry lets a file whose problem was a clash with another
    // file's policy in as soon as that other file let go of it.
    for (int round = 0; round < 2; round++) {
      boolean changed = false;
      for (Path file : present) {
        changed |= refresh(file);
      }
      policiesChanged |= changed;
      if (!changed || files.values().stream().allMatch(s -> s.problems.isEmpty())) {
        break;
      }
    }
    publish(policiesChanged);
  }

  /** Re-reads {@code file} if its content changed or it had problems; true if its policies did. */
  private boolean refresh(Path file) {
    FileState before = files.get(file);
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (IOException e) {
      List<PolicyProblem> problems =
          List.of(new PolicyProblem(file.toString(), null, null, "cannot be read: " + e));
      files.put(file, new FileState(null, before == null ? List.of() : before.accepted, problems));
      return false;
    }
    byte[] digest = sha256(content);
    if (before != null && Arrays.equals(before.digest, digest) && before.problems.isEmpty()) {
      return false;
    }
    List<PolicyProblem> found = new ArrayList<>();
    List<LockPolicy> read = evaluate(file, new String(content, StandardCharsets.UTF_8), found);
    if (found.isEmpty()) {
      files.put(file, new FileState(digest, read, List.of()));
      LOG.info(
          "{}: accepted {}",
          file,
          read.isEmpty() ? "no LockPolicy" : read.stream().map(PolicyRef::of).toList());
      return true;
    }
    List<LockPolicy> kept = before == null ? List.of() : before.accepted;
    if (before == null || !before.problems.equals(found)) {
      for (PolicyProblem p : found) {
        LOG.warn("{}", p);
      }
      if (!kept.isEmpty()) {
        LOG.warn(
            "{}: keeping the version accepted before: {}",
            file,
            kept.stream().map(PolicyRef::of).toList());
      }
    }
    files.put(file, new FileState(digest, kept, List.copyOf(found)));
    return false;
  }

  private List<LockPolicy> evaluate(Path file, String text, List<PolicyProblem> found) {
    String source = file.toString();
    LockPolicyYaml.Result result = LockPolicyYaml.read(source, text);
    found.addAll(result.problems());
    if (!found.isEmpty()) {
      return List.of();
    }
    Set<PolicyRef> inFile = new HashSet<>();
    Map<PolicyRef, Path> elsewhere = new HashMap<>();
    files.forEach(
        (other, state) -> {
          if (!other.equals(file)) {
            state.accepted.forEach(p -> elsewhere.put(PolicyRef.of(p), other));
          }
        });
    List<LockPolicy> out = new ArrayList<>();
    for (LockPolicy policy : result.policies()) {
      if (policy.getMetadata() != null && policy.getMetadata().getNamespace() == null) {
        policy.getMetadata().setNamespace(DEFAULT_NAMESPACE);
      }
      PolicyRef ref = PolicyRef.of(policy);
      for (Violation v : LockPolicyValidator.validate(policy)) {
        found.add(new PolicyProblem(source, null, v.field(), ref + ": " + v.message()));
      }
      Long epoch = epoch(source, policy, found);
      if (!inFile.add(ref)) {
        found.add(new PolicyProblem(source, null, "metadata.name", ref + " is defined twice"));
      } else if (elsewhere.containsKey(ref)) {
        found.add(
            new PolicyProblem(
                source,
                null,
                "metadata.name",
                ref + " is already defined in " + elsewhere.get(ref)));
      }
      if (epoch != null) {
        markReady(policy, epoch, file);
      }
      out.add(policy);
    }
    return found.isEmpty() ? List.copyOf(out) : List.of();
  }

  /**
   * False: no operator keeps these files' epochs, so {@link PolicyLocks} raises them itself,
   * through the backend's ledger, when the backend changes incarnation.
   */
  @Override
  public boolean operatorManaged() {
    return false;
  }

  private static Long epoch(String source, LockPolicy policy, List<PolicyProblem> found) {
    Map<String, String> annotations =
        policy.getMetadata() == null ? null : policy.getMetadata().getAnnotations();
    String text = annotations == null ? null : annotations.get(EPOCH_ANNOTATION);
    if (text == null) {
      return 0L;
    }
    try {
      long epoch = Long.parseLong(text.strip());
      if (epoch >= 0 && epoch <= FencingTokens.MAX_EPOCH) {
        return epoch;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    found.add(
        new PolicyProblem(
            source,
            null,
            "metadata.annotations[" + EPOCH_ANNOTATION + "]",
            PolicyRef.of(policy)
                + ": must be an integer within 0.."
                + FencingTokens.MAX_EPOCH
                + ", was "
                + text));
    return null;
  }

  private static void markReady(LockPolicy policy, long epoch, Path file) {
    if (policy.getMetadata().getGeneration() == null) {
      policy.getMetadata().setGeneration(1L);
    }
    long generation = policy.getMetadata().getGeneration();
    Condition ready =
        new ConditionBuilder()
            .withType("Ready")
            .withStatus("True")
            .withReason("LoadedFromFile")
            .withMessage("read from " + file.getFileName())
            .withObservedGeneration(generation)
            .withLastTransitionTime(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString())
            .build();
    LockPolicyStatus status = new LockPolicyStatus();
    status.setObservedGeneration(generation);
    status.setEpoch(epoch);
    status.setConditions(List.of(ready));
    policy.setStatus(status);
  }

  private void publish(boolean policiesChanged) {
    List<LockPolicy> nowPolicies = new ArrayList<>();
    List<PolicyProblem> nowProblems = new ArrayList<>();
    files
        .values()
        .forEach(
            s -> {
              nowPolicies.addAll(s.accepted);
              nowProblems.addAll(s.problems);
            });
    publish(nowPolicies, nowProblems, policiesChanged);
  }

  private Set<Path> listPolicyFiles() {
    Set<Path> out = new java.util.TreeSet<>();
    try (Stream<Path> entries = Files.list(directory)) {
      entries
          .filter(
              p -> {
                String name = p.getFileName().toString();
                return !name.startsWith(".")
                    && (name.endsWith(".yaml") || name.endsWith(".yml"))
                    && Files.isRegularFile(p);
              })
          .forEach(out::add);
    } catch (IOException e) {
      // Keep what is in force: a folder that cannot be listed now is not a folder emptied.
      LOG.warn(
          "cannot list policy directory {}: {}; keeping the policies in force",
          directory,
          e.toString());
      return new java.util.TreeSet<>(files.keySet());
    }
    return out;
  }

  private static byte[] sha256(byte[] content) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(content);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  @Override
  public String toString() {
    return "DirectoryPolicySource[" + directory + "]";
  }
}
