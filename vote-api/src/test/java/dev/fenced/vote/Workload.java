package dev.fenced.vote;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Many voters voting for one option of one poll at the same time. */
final class Workload {

  /** How many answers came back with each status. */
  record Outcome(Map<Integer, Integer> statuses) {
    int count(int status) {
      return statuses.getOrDefault(status, 0);
    }
  }

  private Workload() {}

  static Outcome run(URI base, String poll, String option, int votes, int parallel)
      throws Exception {
    HttpClient http = HttpClient.newBuilder().build();
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    AtomicInteger next = new AtomicInteger();
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < parallel; w++) {
        workers.add(
            pool.submit(
                () -> {
                  for (int i = next.getAndIncrement(); i < votes; i = next.getAndIncrement()) {
                    HttpRequest request =
                        HttpRequest.newBuilder(base.resolve("/api/polls/" + poll + "/votes"))
                            .header("Content-Type", "application/json")
                            .POST(
                                HttpRequest.BodyPublishers.ofString(
                                    "{\"voter\":\"voter-"
                                        + i
                                        + "\",\"option\":\""
                                        + option
                                        + "\"}"))
                            .build();
                    int status =
                        http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                    statuses.merge(status, 1, Integer::sum);
                  }
                  return null;
                }));
      }
      for (Future<?> worker : workers) {
        worker.get(5, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    return new Outcome(Map.copyOf(statuses));
  }
}
