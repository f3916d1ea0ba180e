export {
  runStoreContract,
  contractClass,
  type ContractTest,
} from "./store-contract.js";
