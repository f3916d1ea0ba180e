export {
  runStoreContract,
  contractClass,
  type ContractTest,
} from "./store-contract.js";
export { metricValue } from "./metrics.js";
export { captureLogger } from "./capture-logger.js";
