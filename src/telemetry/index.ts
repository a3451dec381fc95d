export { Logger, silentLogger, kLogLevels, type LogLevel, type LogFields } from './logger.js';
