import { parentPort } from 'node:worker_threads';
import { checkSegment, segmentCheckReply, type SegmentCheckRequest } from './bundle-verify.js';

// One of `verifyBundle`'s segment threads: checks the segments it is sent, one at a time.
parentPort?.on('message', (request: SegmentCheckRequest) => {
  void checkSegment(request.path, request.firstSeq, request.headSeqs).then(
    (check) => parentPort?.postMessage(segmentCheckReply(check)),
    () => parentPort?.postMessage(segmentCheckReply(null)),
  );
});
