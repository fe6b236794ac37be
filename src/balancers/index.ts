/**
 * Load balancers: how a service picks an endpoint for each request.
 *
 * @packageDocumentation
 */
export type { Balancer, BalancerFactory, EndpointSnapshot } from './balancer.js';
export { roundRobin } from './round-robin.js';
