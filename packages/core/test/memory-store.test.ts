import { MemoryStore } from "@meridian/core";
import { storeConformance } from "@meridian/core/testing";

storeConformance("MemoryStore", () => new MemoryStore());
