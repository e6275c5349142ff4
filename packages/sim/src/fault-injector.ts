import { blockedPaths } from "./partition-shapes.ts";
import type { FaultSpec } from "./schedule.ts";
import type { SimNetwork } from "./sim-network.ts";
import type { SimNode } from "./sim-node.ts";
import type { VirtualScheduler } from "./virtual-scheduler.ts";

/** A paused node stops answering heartbeats; its peers give up on it after this long. */
export const HEARTBEAT_TIMEOUT_MS = 2_000;

/** What the run learns from the injector, for its history and trace. */
export interface FaultHooks {
  crashed(node: SimNode, incarnation: string, wiped: boolean): void;
  restarted(node: SimNode, incarnation: string, nodeId: string): void;
  skewChanged(): void;
  trace(line: string): void;
}

/**
 * Plays faults on the simulated cluster: partitions and chaos on the network, skew and jumps on
 * clocks, pauses, crashes and restarts on nodes, each undone after its duration.
 *
 * @remarks Regions in fault specs are indexes modulo the region count. A crash of a node that is
 * already down does nothing; its restart is scheduled anyway and finds the node up or down as
 * the faults left it. `healEverything` ends every fault at once for the quiet period.
 */
export class FaultInjector {
  constructor(
    private readonly scheduler: VirtualScheduler,
    private readonly network: SimNetwork,
    private readonly nodes: readonly SimNode[],
    private readonly regions: readonly string[],
    private readonly storage: "memory" | "sqlite",
    private readonly hooks: FaultHooks,
  ) {}

  /** The node a fault's region index designates. */
  nodeAt(index: number): SimNode {
    const n = this.nodes.length;
    return this.nodes[((index % n) + n) % n]!;
  }

  /** Starts one fault (and schedules its end). */
  inject(fault: FaultSpec): void {
    this.hooks.trace(`fault ${JSON.stringify(fault)}`);
    switch (fault.type) {
      case "partition": {
        const id = this.network.partition(blockedPaths(fault.shape, this.regions, fault.target));
        this.scheduler.after(fault.durationMs, () => this.network.heal(id));
        return;
      }
      case "chaos": {
        const id = this.network.startChaos(fault);
        this.scheduler.after(fault.durationMs, () => this.network.heal(id));
        return;
      }
      case "skew":
        this.nodeAt(fault.region).clock.skewMs = fault.ms;
        this.hooks.skewChanged();
        return;
      case "jump":
        this.nodeAt(fault.region).clock.jump(fault.ms);
        this.hooks.skewChanged();
        return;
      case "pause":
        this.pause(this.nodeAt(fault.region), fault.durationMs);
        return;
      case "crash": {
        const node = this.nodeAt(fault.region);
        this.crash(node, fault.wipe);
        this.scheduler.after(fault.downMs, () => this.restart(node));
        return;
      }
    }
  }

  /** Ends every fault: clocks back to true time, pauses over, nodes up, network healed. */
  healEverything(): void {
    this.hooks.trace("final heal");
    for (const node of this.nodes) {
      node.clock.skewMs = 0;
      node.pause(this.scheduler.now);
      this.restart(node);
    }
    this.network.healAll();
  }

  private pause(node: SimNode, durationMs: number): void {
    const life = node.current;
    if (life === undefined) return;
    node.pause(this.scheduler.now + durationMs);
    if (durationMs <= HEARTBEAT_TIMEOUT_MS) return;
    this.scheduler.after(HEARTBEAT_TIMEOUT_MS, () => {
      if (node.current === life && life.owner.pausedUntil > this.scheduler.now) {
        this.network.suspect(node.region, true);
      }
    });
    this.scheduler.after(durationMs, () => this.network.suspect(node.region, false));
  }

  private crash(node: SimNode, wipe: boolean): void {
    const wiped = wipe || this.storage === "memory";
    const label = node.crash(wipe);
    if (label === undefined) return;
    this.hooks.crashed(node, label, wiped);
    this.network.reconcile();
  }

  private restart(node: SimNode): void {
    if (node.current !== undefined) return;
    const life = node.start();
    this.hooks.restarted(node, life.label, life.nodeId);
    this.network.reconcile();
  }
}
