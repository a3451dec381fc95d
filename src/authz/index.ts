export { loadEvaluator, kEvaluatorAbiVersion, type EvaluatorModule } from './engine.js';
