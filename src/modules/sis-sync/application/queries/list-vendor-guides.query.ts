import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { VENDOR_GUIDES, vendorGuideWithDefaults } from '../../domain/vendor-guides.js';

type VendorGuideView = ReturnType<typeof vendorGuideWithDefaults>;

export class ListVendorGuidesQuery extends Query<VendorGuideView[]> {}

@QueryHandler(ListVendorGuidesQuery)
export class ListVendorGuidesHandler implements IQueryHandler<ListVendorGuidesQuery, VendorGuideView[]> {
  execute(): Promise<VendorGuideView[]> {
    return Promise.resolve(VENDOR_GUIDES.map(vendorGuideWithDefaults));
  }
}
