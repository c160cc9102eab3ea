import { DynamoShopperRepository } from '../storage/shopper-repository';
import { dynamo } from './dynamo';

let repository: DynamoShopperRepository | undefined;

export function shopperRepository(): DynamoShopperRepository {
  if (!repository) {
    const { doc, tables } = dynamo();
    repository = new DynamoShopperRepository(doc, tables.main);
  }
  return repository;
}
