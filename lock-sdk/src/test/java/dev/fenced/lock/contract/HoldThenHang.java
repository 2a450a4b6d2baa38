package dev.fenced.lock.contract;

import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.lock.ManagedLockService;
import dev.fenced.lock.policy.DirectorySecretResolver;
import dev.fenced.lock.policy.LockPolicyYaml;
import dev.fenced.lock.policy.LockServiceFactory;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A separate JVM that takes a lock under a LockPolicy file and then hangs, holding it, until it is
 * killed. {@link KilledHolderIT} kills it with SIGKILL: nothing runs on the way out.
 *
 * <p>Arguments: policy file, secrets folder, lock name. Prints {@code HELD <token>} once it holds.
 */
public final class HoldThenHang {

  private HoldThenHang() {}

  public static void main(String[] args) throws Exception {
    Path policyFile = Path.of(args[0]);
    var read = LockPolicyYaml.read(policyFile.toString(), Files.readString(policyFile));
    if (!read.problems().isEmpty()) {
      throw new IllegalArgumentException(read.problems().toString());
    }
    Vertx vertx = Vertx.vertx();
    LockServiceFactory factory =
        new LockServiceFactory(vertx, new DirectorySecretResolver(Path.of(args[1])), null, null);
    ManagedLockService service = factory.create(read.policies().get(0));
    LockService.await(service.provision());
    LockHandle handle = service.acquireBlocking(args[2], service.settings().maxWait());
    System.out.println("HELD " + handle.fencingToken());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
